/**
 * The UI's one page: the login form and the app shell (header, navigation, main area). Pages are
 * built by /app.js; nothing here depends on server data.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>broker management</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/style.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<div id="login-view" class="login" hidden>
  <form id="login-form" class="login-box" autocomplete="on">
    <h1><img class="logo" src="/favicon.svg" alt=""> broker</h1>
    <p class="muted">Management console</p>
    <div class="field">
      <label for="login-username">Username</label>
      <input id="login-username" name="username" type="text" autocomplete="username" required>
    </div>
    <div class="field">
      <label for="login-password">Password</label>
      <input id="login-password" name="password" type="password" autocomplete="current-password">
    </div>
    <p id="login-error" class="login-error" role="alert" hidden></p>
    <button id="login-submit" type="submit" class="primary">Log in</button>
  </form>
</div>

<div id="app-view" hidden>
  <header class="top">
    <div class="brand"><img class="logo" src="/favicon.svg" alt=""> broker
      <span id="product" class="muted small"></span></div>
    <div class="top-info">
      <span>Cluster <strong id="cluster-name"></strong></span>
      <label for="vhost-select">Virtual host</label>
      <select id="vhost-select"></select>
      <span>User <strong id="whoami"></strong></span>
      <button id="logout" type="button" class="small">Log out</button>
    </div>
  </header>
  <nav class="tabs" aria-label="Pages">
    <a href="#/overview" data-page="overview">Overview</a>
    <a href="#/connections" data-page="connections">Connections</a>
    <a href="#/channels" data-page="channels">Channels</a>
    <a href="#/exchanges" data-page="exchanges">Exchanges</a>
    <a href="#/queues" data-page="queues">Queues</a>
    <a href="#/admin" data-page="admin">Admin</a>
    <span class="spacer"></span>
    <span id="last-update" class="muted small" aria-live="polite"></span>
    <label for="refresh-select" class="small">Refresh</label>
    <select id="refresh-select" class="small">
      <option value="5000">every 5 seconds</option>
      <option value="10000">every 10 seconds</option>
      <option value="30000">every 30 seconds</option>
      <option value="0">off</option>
    </select>
  </nav>
  <div id="flash" class="flash" role="status" hidden></div>
  <main id="main"></main>
</div>
<noscript><p class="noscript">This console needs JavaScript.</p></noscript>
</body>
</html>
`;

/** The tab icon: a small queue of messages. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#1f3a5f"/>
<rect x="6" y="9" width="5" height="14" rx="1.5" fill="#f5a623"/>
<rect x="13.5" y="9" width="5" height="14" rx="1.5" fill="#fff"/>
<rect x="21" y="9" width="5" height="14" rx="1.5" fill="#fff" opacity=".6"/>
</svg>
`;
