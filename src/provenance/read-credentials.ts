import type { WasmReader } from '@contentauth/c2pa-wasm';
import { DailiesError } from '../errors.ts';
import { creditsSchema, type Credits } from './credits.ts';
import { ACTIONS_LABEL, CREDITS_LABEL } from './manifest.ts';
import { certificatesIn } from './pem.ts';
import { c2paWasm } from './wasm.ts';

/**
 * What a video's Content Credentials say and whether they hold up.
 *
 * - trusted: intact, and signed under one of the trust anchors given;
 * - valid: intact (signature, hashes and certificate profile check out) but the signer was not
 *   checked against a trust list, or is not on it (then `problems` says so);
 * - invalid: present but broken: the video or the manifest changed after signing, or the
 *   certificate is unusable; `problems` names each failure;
 * - absent: the file carries no Content Credentials.
 *
 * `credits` is present even when the state is invalid: it is then what the file claims, not
 * what it proves, so check `state` before showing it as fact.
 */
export type CredentialsReport = {
  state: 'trusted' | 'valid' | 'invalid' | 'absent';
  problems: string[];
  /** Common name of the certificate authority that issued the signing certificate. */
  issuer: string | null;
  /** From a trusted timestamp when there is one, else the time the signer wrote into the created action. */
  signedAt: string | null;
  credits: Credits | null;
  /** The software agent that created the video (e.g. "dailies 0.1.0"), else the claim generator. */
  generator: string | null;
};

/** Plain-language readings of the validation codes people will actually meet. */
const EXPLAINED: Record<string, string> = {
  'assertion.bmffHash.mismatch': 'the video data was changed after it was signed',
  'assertion.dataHash.mismatch': 'the file was changed after it was signed',
  'assertion.hashedURI.mismatch': 'part of the manifest was changed after it was signed',
  'claimSignature.mismatch': 'the signature does not match the signed claim',
  'signingCredential.untrusted': 'the signing certificate does not chain to a trusted CA',
  'signingCredential.expired': 'the signing certificate had expired',
  'signingCredential.revoked': 'the signing certificate was revoked',
  'signingCredential.invalid': 'the signing certificate is not valid for Content Credentials',
};

interface Status {
  code?: string;
  explanation?: string;
}

export async function readCredentials(bytes: Uint8Array, options: { trustAnchorsPem?: string } = {}): Promise<CredentialsReport> {
  const anchors = options.trustAnchorsPem;
  if (anchors !== undefined && certificatesIn(anchors).length === 0) {
    throw new DailiesError('bad_input', "The trust anchors hold no PEM certificate; pass the CA's .pem file (ca.pem of the signing identity).");
  }
  const settings = {
    // Reading a file must never reach out to the network on the file's say-so.
    verify: { remote_manifest_fetch: false, ocsp_fetch: false },
    ...(anchors !== undefined ? { trust: { trust_anchors: anchors } } : {}),
  };
  const none: CredentialsReport = { state: 'absent', problems: [], issuer: null, signedAt: null, credits: null, generator: null };

  const c2pa = c2paWasm();
  let reader: WasmReader;
  try {
    reader = await c2pa.WasmReader.fromBytes('video/mp4', bytes, JSON.stringify(settings));
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    if (/JumbfNotFound/.test(detail)) return none;
    const what = /InvalidAsset/.test(detail) ? 'the file cannot be read as MP4' : 'the Content Credentials cannot be read';
    return { ...none, state: 'invalid', problems: [`${what} (${detail})`] };
  }
  let store: Record<string, unknown>;
  let crJson: Record<string, unknown>;
  try {
    store = JSON.parse(reader.json()) as Record<string, unknown>;
    crJson = JSON.parse(reader.crJson()) as Record<string, unknown>;
  } finally {
    reader.free();
  }

  const label = typeof store.active_manifest === 'string' ? store.active_manifest : null;
  const manifest = label ? asRecord(asRecord(store.manifests)[label]) : {};
  const assertions = asArray(manifest.assertions).map(asRecord);
  const dataOf = (wanted: string) => assertions.find((a) => a.label === wanted)?.data;

  const created = asArray(asRecord(dataOf(ACTIONS_LABEL) ?? dataOf('c2pa.actions')).actions)
    .map(asRecord)
    .find((a) => a.action === 'c2pa.created');
  const parsedCredits = creditsSchema.safeParse(dataOf(CREDITS_LABEL));

  const certificateInfo = asRecord(asRecord(asArray(crJson.manifests).map(asRecord).find((m) => m.label === label)?.signature).certificateInfo);
  const issuerName = asRecord(certificateInfo.issuer);
  const signatureInfo = asRecord(manifest.signature_info);

  const failures = asArray(asRecord(asRecord(store.validation_results).activeManifest).failure) as Status[];
  const state = String(store.validation_state ?? '');
  const problems = failures
    // Without anchors nobody asked about trust: "untrusted" is the expected answer, not a problem.
    .filter((f) => anchors !== undefined || f.code !== 'signingCredential.untrusted')
    .map((f) => `${(f.code && EXPLAINED[f.code]) ?? f.explanation ?? 'unexplained failure'} (${f.code ?? 'no code'})`);

  return {
    state: state === 'Trusted' ? 'trusted' : state === 'Valid' ? 'valid' : 'invalid',
    problems: state === 'Invalid' && problems.length === 0 ? ['the validator found the credentials invalid without naming a reason'] : problems,
    issuer: str(issuerName.CN) ?? str(issuerName.O) ?? str(signatureInfo.issuer),
    signedAt: str(signatureInfo.time) ?? str(created?.when),
    credits: parsedCredits.success ? parsedCredits.data : null,
    generator: agentName(created?.softwareAgent) ?? agentName(asArray(manifest.claim_generator_info)[0]) ?? str(manifest.claim_generator),
  };
}

/** softwareAgent is a string in actions v1 and a {name, version} object in v2. */
function agentName(agent: unknown): string | null {
  if (typeof agent === 'string') return agent;
  const { name, version } = asRecord(agent);
  if (typeof name !== 'string') return null;
  return typeof version === 'string' ? `${name} ${version}` : name;
}

const asRecord = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
