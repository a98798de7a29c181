// Where links to share point.
import { serverURL } from './api'
import { desktop, desktopInfo } from './desktop.svelte'

/**
 * The base of a watch link to share. In a browser, the page's own origin. In
 * the desktop app the page's origin is not the server's: the built-in
 * server's LAN address (what the rest of the network reaches), else the
 * server in use. It reads desktopInfo's state, so a $derived of it follows
 * a change of server at once.
 */
export function shareBase(): string {
  if (!desktop) return location.origin
  return desktopInfo.info?.lan_url || desktopInfo.info?.server_url || serverURL()
}
