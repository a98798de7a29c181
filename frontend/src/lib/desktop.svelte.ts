// The desktop app's Go side, present when the UI runs inside it (Wails puts
// the bound methods on window.go and its runtime on window.runtime). In a
// browser, `desktop` is null and none of this is used.
import { setServer, type Transfer, type UploadProgress } from './api'
import { serverConfig } from './config.svelte'
import { settings } from './settings.svelte'

export interface DesktopInfo {
  server_url: string
  local: boolean
  lan_url?: string
  token: string
}

/** Go's progress event; speed and time left are the UI's to work out, as for the browser. */
export interface DesktopProgress {
  sent: number
  total: number
}

/** An upload left unfinished when the app last closed (Go's PendingUpload). */
export interface PendingUpload {
  url: string
  server: string
  name: string
  path: string
  size: number
  /** What the server has of it, and that share in percent; -1 when the server could not be asked. */
  sent: number
  percent: number
  started: string
  /** Why it cannot go on (the app has forgotten it): its words, and file_changed or upload_gone. */
  problem?: string
  code?: string
}

interface Bound {
  Info(): Promise<DesktopInfo>
  Settings(): Promise<{ server_url: string; token: string }>
  SaveSettings(serverURL: string, token: string): Promise<void>
  ChooseFile(): Promise<string>
  Upload(path: string): Promise<{ id: string; key: string }>
  CancelUpload(): Promise<void>
  PendingUploads(): Promise<PendingUpload[] | null>
  ResumeUpload(url: string): Promise<{ id: string; key: string }>
  DiscardUpload(url: string): Promise<void>
  StartRoute(): Promise<string>
  TranscoderProblem(): Promise<string>
}

type WailsWindow = Window & {
  go?: { desktop?: { App?: Bound } }
  runtime?: { EventsOn(name: string, cb: (...data: unknown[]) => void): () => void }
}

export const desktop: Bound | null = (window as WailsWindow).go?.desktop?.App ?? null

/** Subscribes to an event from the Go side; returns the unsubscribe function. */
export function onDesktopEvent<T>(name: string, cb: (data: T) => void): () => void {
  const rt = (window as WailsWindow).runtime
  return rt ? rt.EventsOn(name, (data) => cb(data as T)) : () => {}
}

/**
 * Where the app's uploads go, asked of the Go side once at start and again
 * only when the settings change; the API client, the token and the server's
 * limits follow it.
 */
class DesktopInfoStore {
  info = $state<DesktopInfo | null>(null)

  async load(): Promise<void> {
    if (!desktop) return
    const info = await desktop.Info()
    setServer(info.server_url)
    settings.setToken(info.token)
    this.info = info
    void serverConfig.load()
  }
}

export const desktopInfo = new DesktopInfoStore()

// Unfinished uploads to go on with, by file path: the next sendPath of that
// path resumes rather than starts anew.
const resumes = new Map<string, string>()

/** Makes the next upload of the file at path go on with the unfinished upload at url. */
export function resumeNext(url: string, path: string): void {
  resumes.set(path, url)
}

/**
 * Has Go upload the file at path, reporting its "upload:progress" events; or
 * resume its unfinished upload, when resumeNext said so.
 */
export function sendPath(path: string, onProgress: (p: UploadProgress) => void): Transfer {
  if (!desktop) throw new Error('not in the desktop app')
  const url = resumes.get(path)
  resumes.delete(path)
  const off = onDesktopEvent<DesktopProgress>('upload:progress', (p) => onProgress({ loaded: p.sent, total: p.total }))
  const done = (url ? desktop.ResumeUpload(url) : desktop.Upload(path)).finally(off)
  return { done, abort: () => void desktop!.CancelUpload() }
}
