/** A failed lab command or a lab that cannot be built, with what went wrong in one line. */
export class LabError extends Error {}
