/** The scenarios `evidence drill` can seed. */
export const DRILL_SCENARIOS = ['web-compromise'] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];
