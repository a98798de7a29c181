// The desktop app's Go side, present when the UI runs inside it (Wails puts
// the bound methods on window.go and its runtime on window.runtime). In a
// browser, `desktop` is null and none of this is used.

export interface DesktopInfo {
  server_url: string
  local: boolean
  lan_url?: string
  token: string
}

export interface DesktopProgress {
  sent: number
  total: number
  percent: number
  speed: number
  eta: number
}

interface Bound {
  Info(): Promise<DesktopInfo>
  Settings(): Promise<{ server_url: string; token: string }>
  SaveSettings(serverURL: string, token: string): Promise<void>
  ChooseFile(): Promise<string>
  Upload(path: string): Promise<{ id: string; key: string }>
  CancelUpload(): Promise<void>
  StartRoute(): Promise<string>
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

/** The last element of a file path, on any OS. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path
}
