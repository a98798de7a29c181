import { mount } from 'svelte'
import './app.css'
import App from './App.svelte'
import { serverConfig } from './lib/config.svelte'
import { upload } from './lib/current-upload'
import { getVideo } from './lib/api'
import { desktop, desktopInfo, enableFileDrop, onDesktopEvent, setWindowTitle } from './lib/desktop.svelte'
import { startFiles, wireDesktop } from './lib/desktop-wiring'
import { router } from './lib/router.svelte'
import { TitleNotice } from './lib/title-notice'

async function start() {
  // Inside the desktop app the page is not served by the AssetLab server:
  // ask the Go side, once, where the server is and which token it uses.
  if (desktop) {
    // Files dropped anywhere on the window, on any page, upload one after
    // another; the upload page shows them. So do files handed over by a
    // second launch of the app, and the menu's commands work from any page.
    enableFileDrop()
    const title = new TitleNotice({
      setTitle: setWindowTitle,
      focused: () => document.hasFocus() && document.visibilityState === 'visible',
    })
    window.addEventListener('focus', () => title.focus())
    document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && title.focus())
    wireDesktop({
      on: onDesktopEvent,
      go: (path) => router.go(path),
      choose: () => desktop!.ChooseFile(),
      upload,
      focusOpen: () => {
        const field = document.getElementById('open-compact') as HTMLInputElement | null
        field?.focus()
        field?.select()
      },
      title,
      status: (id) => getVideo(id),
    })
    await desktopInfo.load()
  } else void serverConfig.load()
  mount(App, { target: document.getElementById('app')! })
  // Video files given on the desktop app's command line (the file
  // manager's "Open with") upload; a video given there opens at once.
  if (desktop) startFiles({ upload, go: (path) => router.go(path) }, await desktop.StartFiles())
  const route = await desktop?.StartRoute()
  if (route) router.go(route)
}

start()
