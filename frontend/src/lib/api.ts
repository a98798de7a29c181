// The only module that talks to the server. Components get typed data.

export type Status = 'pending' | 'processing' | 'done' | 'error'

/** While pending: whether any transcoder is running to take the video. */
export type Waiting = 'no_worker' | 'in_line'

export interface Rendition {
  quality: string
  width: number
  height: number
  size: number
  bitrate?: number
  url: string
}

export interface Video {
  id: string
  status: Status
  progress?: number
  error?: string
  filename?: string
  content_type: string
  size: number
  created_at: string
  duration?: number
  width?: number
  height?: number
  original_url: string
  poster_url?: string
  renditions: Rendition[]
  /**
   * The HLS master playlist (absolute; no token, no expiry). Its attempt
   * number changes when another transcode attempt takes over. Absent before
   * the first segments exist, and for videos transcoded before HLS.
   */
  hls_url?: string
  /** Seconds playable from the start: what is transcoded so far, or the duration once done. */
  playable_seconds?: number
  urls_expire_at: string
  waiting?: Waiting
}

/** What the server says clients should know (GET /api/config). */
export interface ServerConfig {
  max_upload_bytes: number
  accepted_types: string[]
  accepted_extensions: string[]
  qualities: string[]
  features: { resumable_uploads: boolean; hls: boolean; events: boolean }
}

/** What a server without GET /api/config (an older one) does. */
export const defaultConfig: ServerConfig = {
  max_upload_bytes: 1 << 30,
  accepted_types: ['video/mp4', 'video/quicktime', 'video/webm', 'video/x-matroska'],
  accepted_extensions: ['.mp4', '.mov', '.webm', '.mkv'],
  qualities: ['360p', '720p', '1080p'],
  features: { resumable_uploads: false, hls: false, events: false },
}

export interface UploadResult {
  id: string
  key: string
}

export interface UploadProgress {
  loaded: number
  total: number
}

/**
 * An answer from the server that is not a success, or no answer at all.
 * code is the server's machine code ("video_not_found"…), or one of the
 * client's own: "unreachable" (status 0), "cancelled" (status -1). An older
 * server sends no code: then it is "". message is the server's own text;
 * errors.ts turns the whole into words for a person.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message = '',
  ) {
    super(message)
  }
}

let base = ''

/** Sets the server's address ('' for the page's own origin). */
export function setServer(url: string) {
  base = url.replace(/\/+$/, '')
}

export function serverURL(): string {
  return base
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let res: Response
  try {
    res = await fetch(base + path, init)
  } catch (e) {
    // An aborted request is the caller's doing: it stays an AbortError.
    if (init.signal?.aborted) throw e
    throw new ApiError(0, 'unreachable')
  }
  if (!res.ok) {
    let body: unknown
    try {
      body = await res.json()
    } catch {
      // not JSON
    }
    throw errorFrom(res.status, body)
  }
  if (res.status === 204) return undefined as T
  return (await res.json()) as T
}

/** The ApiError for a refusal: the body's {"error", "code"} if it has them. */
function errorFrom(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as { error?: unknown; code?: unknown }
  return new ApiError(status, typeof b.code === 'string' ? b.code : '', typeof b.error === 'string' ? b.error : '')
}

function auth(token: string): HeadersInit {
  return { Authorization: `Bearer ${token}` }
}

/** The server's limits and features; null from an older server, which has no such endpoint. */
export async function getConfig(signal?: AbortSignal): Promise<ServerConfig | null> {
  try {
    const cfg = await request<Partial<ServerConfig>>('/api/config', { signal })
    return { ...defaultConfig, ...cfg }
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null
    throw e
  }
}

export function getVideo(id: string, signal?: AbortSignal): Promise<Video> {
  return request<Video>(`/api/videos/${encodeURIComponent(id)}`, { signal })
}

export async function listVideos(token: string, signal?: AbortSignal): Promise<Video[]> {
  const body = await request<{ videos: Video[] }>('/api/videos', { headers: auth(token), signal })
  return body.videos
}

export function deleteVideo(id: string, token: string): Promise<void> {
  return request<void>(`/api/videos/${encodeURIComponent(id)}`, { method: 'DELETE', headers: auth(token) })
}

/** An upload under way: done settles with its outcome; abort() cancels it. */
export interface Transfer {
  done: Promise<UploadResult>
  abort: () => void
}

/**
 * Uploads a file with progress. Uses XMLHttpRequest, which (unlike fetch)
 * reports upload progress. abort() cancels it; done then rejects with an
 * ApiError whose code is "cancelled".
 */
export function uploadVideo(file: Blob, filename: string, token: string, onProgress: (p: UploadProgress) => void): Transfer {
  const xhr = new XMLHttpRequest()
  const done = new Promise<UploadResult>((resolve, reject) => {
    xhr.open('POST', base + '/api/upload')
    xhr.setRequestHeader('Authorization', `Bearer ${token}`)
    xhr.responseType = 'json'
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size })
    xhr.onload = () => {
      if (xhr.status === 201) resolve(xhr.response as UploadResult)
      else reject(errorFrom(xhr.status, xhr.response))
    }
    xhr.onerror = () => reject(new ApiError(0, 'unreachable'))
    xhr.onabort = () => reject(new ApiError(-1, 'cancelled'))
    const form = new FormData()
    form.append('file', file, filename)
    xhr.send(form)
  })
  return { done, abort: () => xhr.abort() }
}
