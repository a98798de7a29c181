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
  urls_expire_at: string
  waiting?: Waiting
}

export interface UploadResult {
  id: string
  key: string
}

export interface UploadProgress {
  loaded: number
  total: number
}

/** An answer from the server that is not a success, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
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
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check your connection and try again.')
  }
  if (!res.ok) {
    throw new ApiError(res.status, await errorMessage(res))
  }
  if (res.status === 204) return undefined as T
  return (await res.json()) as T
}

async function errorMessage(res: Response): Promise<string> {
  try {
    const body = await res.json()
    if (typeof body?.error === 'string') return body.error
  } catch {
    // not JSON
  }
  return `The server answered ${res.status}.`
}

function auth(token: string): HeadersInit {
  return { Authorization: `Bearer ${token}` }
}

export function getVideo(id: string): Promise<Video> {
  return request<Video>(`/api/videos/${encodeURIComponent(id)}`)
}

export async function listVideos(token: string): Promise<Video[]> {
  const body = await request<{ videos: Video[] }>('/api/videos', { headers: auth(token) })
  return body.videos
}

export function deleteVideo(id: string, token: string): Promise<void> {
  return request<void>(`/api/videos/${encodeURIComponent(id)}`, { method: 'DELETE', headers: auth(token) })
}

/** What a person should read for a failed upload. */
export function uploadErrorMessage(status: number, serverMessage: string): string {
  switch (status) {
    case 0:
      return 'The upload was interrupted: the server cannot be reached. Check your connection and try again.'
    case 401:
      return 'The upload token was refused. Check it and try again.'
    case 413:
      return `The file is too large. ${serverMessage}`
    case 415:
      return 'This file is not a video AssetLab can take. Upload an MP4, MOV, WebM or MKV file.'
    default:
      return serverMessage || `The server answered ${status}.`
  }
}

/**
 * Uploads a file with progress. Uses XMLHttpRequest, which (unlike fetch)
 * reports upload progress. abort() cancels it; the promise then rejects with
 * an ApiError whose status is -1.
 */
export function uploadVideo(
  file: Blob,
  filename: string,
  token: string,
  onProgress: (p: UploadProgress) => void,
): { done: Promise<UploadResult>; abort: () => void } {
  const xhr = new XMLHttpRequest()
  const done = new Promise<UploadResult>((resolve, reject) => {
    xhr.open('POST', base + '/api/upload')
    xhr.setRequestHeader('Authorization', `Bearer ${token}`)
    xhr.responseType = 'json'
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size })
    xhr.onload = () => {
      if (xhr.status === 201) {
        resolve(xhr.response as UploadResult)
        return
      }
      const msg = typeof xhr.response?.error === 'string' ? xhr.response.error : ''
      reject(new ApiError(xhr.status, uploadErrorMessage(xhr.status, msg)))
    }
    xhr.onerror = () => reject(new ApiError(0, uploadErrorMessage(0, '')))
    xhr.onabort = () => reject(new ApiError(-1, 'Upload cancelled.'))
    const form = new FormData()
    form.append('file', file, filename)
    xhr.send(form)
  })
  return { done, abort: () => xhr.abort() }
}
