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
  /** The app's version (git describe), stamped when it was built. */
  version: string
  /** The built-in server's former port, when that was busy at launch and its address changed. */
  port_moved_from?: number
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
  StartFiles(): Promise<string[] | null>
  TranscoderProblem(): Promise<string>
}

type WailsWindow = Window & {
  go?: { desktop?: { App?: Bound } }
  runtime?: {
    EventsOn(name: string, cb: (...data: unknown[]) => void): () => void
    OnFileDrop?(cb: (x: number, y: number, paths: string[]) => void, useDropTarget: boolean): void
    WindowSetTitle?(title: string): void
  }
}

export const desktop: Bound | null = (window as WailsWindow).go?.desktop?.App ?? null

/** Subscribes to an event from the Go side; returns the unsubscribe function. */
export function onDesktopEvent<T>(name: string, cb: (data: T) => void): () => void {
  const rt = (window as WailsWindow).runtime
  return rt ? rt.EventsOn(name, (data) => cb(data as T)) : () => {}
}

/** Sets the native window's title. */
export function setWindowTitle(title: string): void {
  ;(window as WailsWindow).runtime?.WindowSetTitle?.(title)
}

/**
 * Turns on the Wails runtime's window-wide handlers for files dragged over
 * the window: they keep the webview from opening a dropped file itself, mark
 * the root element (.wails-drop-target-active) while files are over it, and
 * on Windows hand the dropped files to Go, which reads their paths. The
 * paths come back from Go as the "files:dropped" event, on every OS.
 */
export function enableFileDrop(): void {
  ;(window as WailsWindow).runtime?.OnFileDrop?.(() => {}, true)
  // WebKitGTK shows files dragged in from another app as a text/uri-list,
  // not as "Files", the only kind the runtime's handlers take: without these
  // the window showed nothing while files were over it, and a drop outside
  // the drop zone made the webview open the file itself.
  const root = document.documentElement
  let leave: ReturnType<typeof setTimeout> | undefined
  const carriesFiles = (e: DragEvent) => {
    const types = e.dataTransfer?.types ?? []
    return types.includes('Files') || types.includes('text/uri-list')
  }
  const over = (e: DragEvent) => {
    if (!carriesFiles(e)) return
    e.preventDefault()
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'
    clearTimeout(leave)
    root.classList.add(dropActive)
  }
  window.addEventListener('dragenter', over)
  window.addEventListener('dragover', over)
  // Moving from one element to another fires dragleave, then dragover at
  // once: only a dragleave with none after it means the files left.
  window.addEventListener('dragleave', () => {
    clearTimeout(leave)
    leave = setTimeout(() => root.classList.remove(dropActive), 100)
  })
  window.addEventListener('drop', (e) => {
    if (!carriesFiles(e)) return
    e.preventDefault()
    clearTimeout(leave)
    root.classList.remove(dropActive)
  })
}

/** The class the Wails runtime gives drop targets while files are over them. */
const dropActive = 'wails-drop-target-active'

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
