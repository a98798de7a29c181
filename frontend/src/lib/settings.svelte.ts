// Per-browser settings, kept in localStorage: the upload token a person typed.
// The token is never built into the app.

const TOKEN_KEY = 'assetlab.token'

class Settings {
  token = $state(localStorage.getItem(TOKEN_KEY) ?? '')

  setToken(t: string) {
    this.token = t.trim()
    if (this.token) localStorage.setItem(TOKEN_KEY, this.token)
    else localStorage.removeItem(TOKEN_KEY)
  }
}

export const settings = new Settings()
