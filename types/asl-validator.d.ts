// asl-validator ships no types; this is the part of its API Spectra uses.
declare module 'asl-validator' {
  interface ValidationError {
    'Error code': string;
    Message: string;
  }
  interface ValidationResult {
    isValid: boolean;
    errors: ValidationError[];
    errorsText?: (separator?: string) => string;
  }
  export default function validator(
    definition: object,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): ValidationResult;
}
