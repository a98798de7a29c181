// What the server accepts, learnt from GET /api/config once it answers. Until
// then, and from an older server without that endpoint, the defaults apply
// (the limits such a server has).
import { defaultConfig, getConfig, type ServerConfig } from './api'

export class ConfigStore {
  current = $state<ServerConfig>(defaultConfig)
  /** Whether current came from the server (false: the defaults). */
  fromServer = $state(false)

  constructor(private get: (signal?: AbortSignal) => Promise<ServerConfig | null> = getConfig) {}

  /** Asks the server; on no answer the defaults stay, and the server still has the last word on each upload. */
  async load(signal?: AbortSignal): Promise<void> {
    try {
      const cfg = await this.get(signal)
      if (signal?.aborted) return
      this.current = cfg ?? defaultConfig
      this.fromServer = cfg !== null
    } catch {
      // Unreachable or failing: keep what is known.
    }
  }
}

export const serverConfig = new ConfigStore()
