/** The scenarios `evidence drill` can seed: the same seeded estate, rehearsing different parts of the plan. */
export const DRILL_SCENARIOS = ['web-compromise', 'suspected-compromise'] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];

export interface ScenarioSpec {
  summary: string;
  severity: 'high' | 'low';
  /** At low severity the plan holds containment until it is agreed: the drill rehearses that approval. */
  rehearseApproval: boolean;
}

export const SCENARIO_SPECS: Record<DrillScenario, ScenarioSpec> = {
  'web-compromise': {
    summary: 'a confirmed compromise: preserve, collect and contain at once',
    severity: 'high',
    rehearseApproval: false,
  },
  'suspected-compromise': {
    summary:
      'a suspicion at low severity: evidence first, containment waits for approval, then is approved and applied',
    severity: 'low',
    rehearseApproval: true,
  },
};
