// Whizzy: a thread's URL opened in a browser that is not signed in yet (a new browser, a
// shared link) opens that thread once the sign-in is done. Chainlit's page loads /login and,
// after the sign-in, always goes to "/": remember the thread (for this tab), and go back to
// it, after a sign-in, when the server knows the user. The thread is forgotten only once it
// shows: on a busy machine Chainlit may send a signed-in page to /login again before its
// /user answer arrives (it redirects when its translations load first), and the thread is
// asked for again then (a few times at most).
(() => {
  const WANTED = "whizzy-open-after-login";
  const SIGNIN = "whizzy-signin-seen";
  const OPENED = "whizzy-reopened";
  const TRIES = "whizzy-reopen-tries";
  const MAX_TRIES = 5;
  const store = window.sessionStorage;
  const here = window.location.pathname;
  if (/\/thread\/[^/]+$/.test(here)) {
    if (store.getItem(OPENED) === here) store.removeItem(OPENED);  // we came back
    else {
      store.setItem(WANTED, here);
      store.removeItem(TRIES);
    }
  }
  const wanted = store.getItem(WANTED);
  if (!wanted) return;
  const forget = () => [WANTED, SIGNIN, TRIES].forEach((k) => store.removeItem(k));
  const root = wanted.replace(/\/thread\/[^/]+$/, "");
  let asking = false;
  const timer = window.setInterval(() => {
    const path = window.location.pathname;
    if (path.endsWith("/login")) {
      store.setItem(SIGNIN, "1");  // signed in here? then the thread, not the home page
    } else if (path === wanted) {  // the thread is open: done once its steps show
      if (document.querySelector("[data-step-type]")) {
        forget();
        window.clearInterval(timer);
      }
      return;
    } else {
      const home = path === "/" || path === root || path === root + "/";
      // went elsewhere without signing in (the sign-in page may pass faster than one tick:
      // the home page it leads to still counts)
      if (!store.getItem(SIGNIN) && !home) {
        forget();
        window.clearInterval(timer);
        return;
      }
    }
    if (asking) return;
    asking = true;  // signed in yet? then open the thread the URL named
    fetch(root + "/user", {credentials: "include"}).then((r) => {
      asking = false;
      if (!r.ok) return;
      window.clearInterval(timer);
      const tries = Number(store.getItem(TRIES) || 0);
      if (tries >= MAX_TRIES) {
        forget();
        return;
      }
      store.setItem(TRIES, String(tries + 1));
      store.setItem(OPENED, wanted);
      window.location.replace(wanted);
    }).catch(() => { asking = false; });
  }, 100);
})();
