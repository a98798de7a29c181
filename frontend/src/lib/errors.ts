// The one place where the server's error codes become words for a person.
// An unknown code shows the server's own text; an older server sends no code,
// and its status stands in for the few codes it can mean.
import { ApiError } from './api'
import { serverConfig } from './config.svelte'
import { fileKinds, formatBytes } from './format'

type Words = string | ((e: ApiError) => string)

const words: Record<string, Words> = {
  // The client's own.
  unreachable: 'The server cannot be reached. Check your connection and try again.',
  cancelled: 'Upload cancelled.',
  // The server's (see its openapi.yaml).
  missing_token: 'Enter the upload token first.',
  invalid_token: 'The token was refused. Check it and try again.',
  bad_request: (e) => `The server could not take the request: ${e.message || 'it was malformed'}.`,
  malformed_id: 'That is not a video ID.',
  not_found: 'The server has no such endpoint: it may be an older version of AssetLab.',
  video_not_found: 'There is no video with this ID. It may have been deleted, or the link is incomplete.',
  rendition_not_available: 'That quality is not ready yet.',
  unknown_quality: 'The server does not make that quality.',
  file_too_large: (e) => {
    const limit = serverConfig.fromServer
      ? formatBytes(serverConfig.current.max_upload_bytes)
      : e.message.match(/the limit is (\d+(?:\.\d+)? [KMGT]iB)/)?.[1]
    return limit ? `The file is too large: the limit is ${limit}.` : "The file is larger than this server's limit."
  },
  unsupported_type: () => `This file is not a video AssetLab can take. Upload ${fileKinds(serverConfig.current.accepted_extensions)}.`,
  empty_file: 'The file is empty.',
  upload_interrupted: 'The upload was interrupted before the whole file arrived. Check your connection and try again.',
  upload_not_found: 'The server no longer has this upload: it expired or was cancelled. Choose the file again to start over.',
  offset_mismatch: 'The upload got out of step with the server. Choose the file again to go on from where the server is.',
  upload_locked: 'This upload is busy with another request, maybe in another tab. Try again in a moment.',
  method_not_allowed: 'The server does not allow that here.',
  storage_full: "The server's storage is full: ask its admin to free up space, then try again.",
  storage_unavailable: "The server's storage cannot be reached right now. Try again shortly.",
  too_many_uploads: 'The server is busy with other uploads. Try again in a moment.',
  transcoder_off: 'The transcoder is off on this server, so this cannot be done now.',
  original_gone: 'The original file of this video is gone from storage.',
  internal: 'Something went wrong on the server. Try again; if it keeps failing, tell its admin.',
}

// What an older server's status means, for the codes a client acts on.
const byStatus: Record<number, string> = {
  401: 'invalid_token',
  413: 'file_too_large',
  415: 'unsupported_type',
}

/** The code of an error ("" if it has none). */
export function errorCode(e: unknown): string {
  return e instanceof ApiError ? e.code || byStatus[e.status] || '' : ''
}

/** What a person should read for an error from the server, or any other. */
export function errorMessage(e: unknown): string {
  if (!(e instanceof ApiError)) {
    // The desktop app's Go side rejects with its own words, as a string.
    return typeof e === 'string' ? e : e instanceof Error ? e.message : String(e)
  }
  const w = words[errorCode(e)]
  if (typeof w === 'function') return w(e)
  if (w) return w
  return e.message || `The server answered ${e.status}.`
}
