export declare const streamProvider: unknown;
export declare const providers: unknown[];
