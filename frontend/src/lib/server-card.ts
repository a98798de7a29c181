// The desktop app's server card: what it shows of the built-in server's
// address and upload token, and copying them for a browser on the network.
import type { DesktopInfo } from './desktop.svelte'

/** The token hidden: as many dots as characters (at most 24), so that its length still shows. */
export function maskToken(token: string): string {
  return '•'.repeat(Math.min(token.length, 24))
}

/** The small part of the Clipboard API that copying needs. */
export interface Clip {
  writeText(text: string): Promise<void>
}

/**
 * Copies text; false when the clipboard refused it (the card then says to
 * select and copy it by hand).
 */
export async function copyText(text: string, clip: Clip | undefined = globalThis.navigator?.clipboard): Promise<boolean> {
  if (!clip || !text) return false
  try {
    await clip.writeText(text)
    return true
  } catch {
    return false
  }
}

/** What the card says of the built-in server's address having changed, or "". */
export function movedNote(info: DesktopInfo | null): string {
  if (!info?.local || !info.port_moved_from || !info.lan_url) return ''
  return `Port ${info.port_moved_from} was taken by another program, so the address on your network changed: browsers that used the old one need the new one.`
}

/** A bound method's rejection in the words Go gave: Wails rejects with the error's text. */
export function problemText(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
