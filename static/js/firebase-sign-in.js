// "Continue with Firebase" on the sign-in page: sign in at Google in a popup, then post the
// Firebase ID token with the page's CSRF token to the server, which verifies it and answers
// with a redirect the browser follows (a plain form submission). The SDK is started only on
// the click, so loading the page reaches no host but this one; it keeps nothing in the
// browser's storage, and the Firebase session ends once the token is taken.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("firebase-sign-in");
    if (!form) return;
    var button = document.getElementById("firebase-continue");
    var error = document.getElementById("firebase-error");
    var auth = null;

    function start() {
      if (auth) return auth;
      var app = window.firebase.initializeApp({
        apiKey: form.dataset.apiKey,
        authDomain: form.dataset.authDomain,
        projectId: form.dataset.projectId,
      }, "catalog-sign-in");
      auth = app.auth();
      // In memory only: nothing of the Firebase session stays in the browser's storage.
      auth.setPersistence(window.firebase.auth.Auth.Persistence.NONE).catch(function () {});
      return auth;
    }

    function failed() {
      error.hidden = false;
      button.disabled = false;
    }

    button.addEventListener("click", function () {
      if (!window.firebase) { failed(); return; }
      error.hidden = true;
      button.disabled = true;
      var firebaseAuth;
      try { firebaseAuth = start(); } catch (e) { failed(); return; }
      var provider = new window.firebase.auth.GoogleAuthProvider();
      // Called in the click itself, so that no popup blocker takes the popup for an ad.
      firebaseAuth.signInWithPopup(provider)
        .then(function (result) { return result.user.getIdToken(); })
        .then(function (token) {
          document.getElementById("firebase-id-token").value = token;
          return firebaseAuth.signOut().catch(function () { /* the token is taken already */ });
        })
        .then(function () { form.submit(); })
        // A closed popup, a refused account at Google, no network: the page says so and
        // the button works again. The reason is not the visitor's business.
        .catch(failed);
    });
  });
})();
