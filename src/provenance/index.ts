/**
 * Content Credentials (C2PA) for dailies videos: sign an MP4 with who made it and how, and read
 * that back with a verdict. Everything else in this folder is how; these are the what.
 */
export type { ContributorRole, Credits, LineageEntry, Person } from './credits.ts';
export { parseCredits } from './credits.ts';
export { loadSigningIdentity, type IdentityOptions, type SigningIdentity } from './signing-identity.ts';
export { manifestHeadroom, signMp4 } from './sign-mp4.ts';
export { readCredentials, type CredentialsReport } from './read-credentials.ts';
export { formatReport, type FormatOptions } from './format-report.ts';
export { CREDITS_LABEL } from './manifest.ts';
