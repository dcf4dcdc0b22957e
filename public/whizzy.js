// Whizzy: a thread's URL opened in a browser that is not signed in yet (a new browser, a
// shared link) opens that thread once the sign-in is done. Chainlit's page loads /login and,
// after the sign-in, always goes to "/": remember the thread (for this tab), and go back to
// it once, after a sign-in, when the server knows the user.
(() => {
  const WANTED = "whizzy-open-after-login";
  const SIGNIN = "whizzy-signin-seen";
  const OPENED = "whizzy-reopened";
  const store = window.sessionStorage;
  const here = window.location.pathname;
  if (/\/thread\/[^/]+$/.test(here)) {
    if (store.getItem(OPENED) === here) store.removeItem(OPENED);  // we came back: once only
    else store.setItem(WANTED, here);
  }
  const wanted = store.getItem(WANTED);
  if (!wanted) return;
  const forget = () => [WANTED, SIGNIN].forEach((k) => store.removeItem(k));
  const root = wanted.replace(/\/thread\/[^/]+$/, "");
  let asking = false;
  const timer = window.setInterval(() => {
    const path = window.location.pathname;
    if (path.endsWith("/login")) {
      store.setItem(SIGNIN, "1");
      return;
    }
    if (path === wanted) {  // the thread opened: nothing to do
      if (document.querySelector("[data-step-type]")) {
        forget();
        window.clearInterval(timer);
      }
      return;
    }
    const home = path === "/" || path === root || path === root + "/";
    // went elsewhere without signing in (the sign-in page may pass faster than one tick:
    // the home page it leads to still counts)
    if (!store.getItem(SIGNIN) && !home) {
      forget();
      window.clearInterval(timer);
      return;
    }
    if (asking) return;
    asking = true;  // signed in yet? then open the thread the URL named
    fetch(root + "/user", {credentials: "include"}).then((r) => {
      asking = false;
      if (!r.ok) return;
      window.clearInterval(timer);
      forget();
      store.setItem(OPENED, wanted);
      window.location.replace(wanted);
    }).catch(() => { asking = false; });
  }, 100);
})();
