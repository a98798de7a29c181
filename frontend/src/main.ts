import { mount } from 'svelte'
import './app.css'
import App from './App.svelte'
import { setServer } from './lib/api'
import { desktop } from './lib/desktop'
import { router } from './lib/router.svelte'
import { settings } from './lib/settings.svelte'

async function start() {
  // Inside the desktop app the page is not served by the AssetLab server:
  // ask the Go side where the server is, and which token it uses.
  if (desktop) {
    const info = await desktop.Info()
    setServer(info.server_url)
    if (info.token) settings.setToken(info.token)
  }
  mount(App, { target: document.getElementById('app')! })
  // A video given on the desktop app's command line opens at once.
  const route = await desktop?.StartRoute()
  if (route) router.go(route)
}

start()
