// What web/js uses of the Firebase JS SDK: the entry `make web-vendor` bundles into
// firebase.js. Add an export here (and rebuild) before importing it in web/js.
export { initializeApp } from "firebase/app";
export { browserLocalPersistence, connectAuthEmulator, initializeAuth, signInAnonymously } from "firebase/auth";
export { getToken, initializeAppCheck, ReCaptchaEnterpriseProvider } from "firebase/app-check";
