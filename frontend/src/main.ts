import { mount } from 'svelte'
import './app.css'
import App from './App.svelte'
import { serverConfig } from './lib/config.svelte'
import { upload } from './lib/current-upload'
import { desktop, desktopInfo, enableFileDrop, onDesktopEvent } from './lib/desktop.svelte'
import { router } from './lib/router.svelte'

async function start() {
  // Inside the desktop app the page is not served by the AssetLab server:
  // ask the Go side, once, where the server is and which token it uses.
  if (desktop) {
    // Files dropped anywhere on the window, on any page, upload one after
    // another; the upload page shows them.
    enableFileDrop()
    onDesktopEvent<string[]>('files:dropped', (paths) => {
      if (!paths?.length) return
      void upload.paths(paths)
      router.go('/')
    })
    await desktopInfo.load()
  } else void serverConfig.load()
  mount(App, { target: document.getElementById('app')! })
  // A video given on the desktop app's command line opens at once.
  const route = await desktop?.StartRoute()
  if (route) router.go(route)
}

start()
