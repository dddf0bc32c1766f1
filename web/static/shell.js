// The shell's header on a phone: the account menu (language, account, logout) folds behind one
// button so the page's own content starts at the top. Wider screens show the menu inline (CSS).
"use strict";
(() => {
  // a row of tabs scrolls sideways on a phone: show the current one
  document.querySelector(".tabs [aria-current=page]")?.scrollIntoView({ block: "nearest", inline: "nearest" });
  const toggle = document.querySelector(".menu-toggle");
  const bar = document.querySelector(".topbar");
  if (!toggle || !bar) return;
  const set = (open) => {
    bar.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => set(toggle.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && bar.classList.contains("open")) {
      set(false);
      toggle.focus();
    }
  });
})();
