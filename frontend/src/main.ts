import { mount } from 'svelte'
import './app.css'
import App from './App.svelte'
import { serverConfig } from './lib/config.svelte'
import { desktop, desktopInfo } from './lib/desktop.svelte'
import { router } from './lib/router.svelte'

async function start() {
  // Inside the desktop app the page is not served by the AssetLab server:
  // ask the Go side, once, where the server is and which token it uses.
  if (desktop) await desktopInfo.load()
  else void serverConfig.load()
  mount(App, { target: document.getElementById('app')! })
  // A video given on the desktop app's command line opens at once.
  const route = await desktop?.StartRoute()
  if (route) router.go(route)
}

start()
