// Resumable uploads (tus 1.0, /api/uploads/) with tus-js-client: the file
// goes in chunks, a dropped connection is retried from the offset the server
// has, and a page reload can resume from it (tus-js-client keeps the upload
// URL in localStorage under a fingerprint of the file). Beside api.ts, whose
// plain POST /api/upload stays for servers without the feature; it speaks to
// the server as api.ts does: the same token, the same ApiErrors.
// tus-js-client (about 70 KB) is loaded when the first upload starts, so
// that the pages viewers open do not carry it.
import type { DetailedError, Upload as TusUpload } from 'tus-js-client'
import { ApiError, serverURL, uploadVideo, type ServerConfig, type Transfer, type UploadProgress } from './api'

/**
 * 64 MiB a PATCH: the server's S3 store cuts a body into 8 MiB parts, so a
 * chunk is whole parts with no remainder left over for the next PATCH. Each
 * PATCH waits for its last part to reach storage before it is answered:
 * with 16 MiB chunks that pause cost a fifth of the throughput of a plain
 * upload, with 64 MiB a twentieth (make bench-resumable). A dropped
 * connection loses nothing the server received; only a proxy that buffers
 * whole requests and drops a broken one costs up to a chunk again (at
 * 20 Mbit/s, 27 s).
 */
export const defaultChunkBytes = 64 << 20

/** localStorage key of a different chunk size (bytes), for tests on small files. */
export const chunkBytesKey = 'assetlab.uploadChunkBytes'

/**
 * Waits before each retry, in ms, growing: the first right away, then up to a
 * minute apart; about ten minutes in all. The count starts again whenever
 * the server has taken more bytes.
 */
export const retryDelays = [0, 1000, 2000, 4000, 8000, 15000, 30000, 30000, 60000, 60000, 60000, 60000, 60000, 60000, 60000, 60000]

/** The header of the last PATCH's answer that names the new video. */
export const videoIdHeader = 'Upload-Video-Id'

/** What a resumable upload reports beyond its bytes. */
export interface ResumableProgress extends UploadProgress {
  /** Set on the first report of an upload resumed from a previous page: the bytes the server had. */
  resumedAt?: number
  /** True while the connection is lost and the upload waits to try again. */
  retrying?: boolean
}

/** The chunk size in force: the default, unless a test set another. */
export function chunkBytes(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): number {
  const n = Number(storage?.getItem(chunkBytesKey))
  return Number.isInteger(n) && n >= 64 << 10 ? n : defaultChunkBytes
}

/**
 * Whether to try again after err: on no answer (the network), a 5xx, a 409
 * (offset mismatch: the HEAD before the retry gets the right one) and a 423
 * (locked by the request the drop cut off, which the server lets go of).
 * Unlike tus-js-client's default, also while the browser says it is offline:
 * that is exactly when it should wait and try again.
 */
export function shouldRetry(err: DetailedError | Error): boolean {
  const status = answerOf(err)?.getStatus() ?? 0
  return status === 0 || status >= 500 || status === 409 || status === 423
}

/** The server's answer a tus-js-client error carries, if any (a DetailedError's). */
function answerOf(err: DetailedError | Error) {
  return 'originalResponse' in err ? err.originalResponse : null
}

/** The ApiError for a failed tus request: the server's JSON {"error", "code"} if it sent one. */
export function tusError(err: DetailedError | Error): ApiError {
  const res = answerOf(err)
  if (!res || res.getStatus() === 0) return new ApiError(0, 'unreachable')
  let body: { error?: unknown; code?: unknown } = {}
  try {
    body = JSON.parse(res.getBody()) ?? {}
  } catch {
    // tusd's own refusals are plain text; the status speaks for them.
  }
  return new ApiError(
    res.getStatus(),
    typeof body.code === 'string' ? body.code : '',
    typeof body.error === 'string' ? body.error : '',
  )
}

/**
 * Uploads file with tus, resuming an upload of the same file that an earlier
 * page left unfinished. abort() ends it on the server too (DELETE); done then
 * rejects with an ApiError whose code is "cancelled".
 */
export function uploadResumable(file: File, token: string, onProgress: (p: ResumableProgress) => void): Transfer {
  let tus: TusUpload | undefined
  let cancelled = false
  let waiting = false
  let resuming = false
  let sent = 0
  let succeed!: (v: { id: string; key: string }) => void
  let fail!: (e: unknown) => void
  const done = new Promise<{ id: string; key: string }>((resolve, reject) => {
    succeed = resolve
    fail = reject
  })
  const finished = () => removeEventListener('online', retryNow)
  // Back online while waiting to retry: retry now, not at the end of the wait.
  const retryNow = () => {
    if (!waiting || cancelled || !tus) return
    waiting = false
    const t = tus
    void t.abort().then(() => !cancelled && t.start())
  }
  addEventListener('online', retryNow)

  void (async () => {
    let Upload: typeof TusUpload
    try {
      Upload = (await import('tus-js-client')).Upload
    } catch {
      finished()
      fail(new ApiError(0, 'unreachable'))
      return
    }
    if (cancelled) return
    const t = new Upload(file, {
      endpoint: serverURL() + '/api/uploads/',
      headers: { Authorization: `Bearer ${token}` },
      metadata: { filename: file.name, filetype: file.type },
      chunkSize: chunkBytes(),
      retryDelays,
      removeFingerprintOnSuccess: true,
      onShouldRetry: (err) => {
        const again = shouldRetry(err)
        if (again) {
          waiting = true
          onProgress({ loaded: sent, total: file.size, retrying: true })
        }
        return again
      },
      onAfterResponse: (req, res) => {
        // The offset a resumed upload goes on from, before any byte is sent.
        // (A 404 there: the upload expired, and a new one starts from 0.)
        if (resuming && req.getMethod() === 'HEAD') {
          resuming = false
          const at = Number(res.getHeader('Upload-Offset'))
          if (res.getStatus() === 200 && Number.isFinite(at)) {
            sent = at
            onProgress({ loaded: at, total: file.size, resumedAt: at })
          }
        }
      },
      onProgress: (loaded, total) => {
        waiting = false
        sent = loaded
        onProgress({ loaded, total })
      },
      onSuccess: ({ lastResponse }) => {
        finished()
        const id = lastResponse.getHeader(videoIdHeader)
        if (id) succeed({ id, key: '' })
        else fail(new ApiError(lastResponse.getStatus(), '', 'the server did not name the new video'))
      },
      onError: (err) => {
        finished()
        fail(tusError(err))
      },
    })
    tus = t
    try {
      const previous = await t.findPreviousUploads()
      if (cancelled) return
      // The newest, if the page left more than one.
      const last = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0]
      if (last) {
        resuming = true
        t.resumeFromPreviousUpload(last)
      }
    } catch {
      // No localStorage (a private window, say): a new upload, not resumable after a reload.
    }
    if (!cancelled) t.start()
  })()

  return {
    done,
    abort: () => {
      if (cancelled) return
      cancelled = true
      finished()
      fail(new ApiError(-1, 'cancelled'))
      // The server forgets the upload (DELETE, retried like the rest); the
      // fingerprint goes with it. Before the library has loaded, nothing
      // was sent.
      tus?.abort(true).catch(() => {
        // The server's expiry removes it in the end.
      })
    },
  }
}

type SendFile = (file: File, token: string, onProgress: (p: ResumableProgress) => void) => Transfer

const plainUpload: SendFile = (file, token, onProgress) => uploadVideo(file, file.name, token, onProgress)

/** How a file chosen in the page is sent: resumably where the server offers it, else in one POST /api/upload. */
export function fileSender(cfg: ServerConfig, resumable: SendFile = uploadResumable, plain: SendFile = plainUpload): SendFile {
  return cfg.features.resumable_uploads ? resumable : plain
}
