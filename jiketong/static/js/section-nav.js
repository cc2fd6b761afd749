// The 360 page's section nav: adds the panels other apps contribute (each a .card with an id and a header) in
// page order next to the archive's own entries, and marks the section being read.
(function () {
  function label(card) {
    const header = card.querySelector(".card-header");
    if (!header) return "";
    const part = (header.querySelector("span") || header).cloneNode(true);
    part.querySelectorAll(".badge, .btn, a, form").forEach((el) => el.remove());
    return part.textContent.replace(/\s+/g, " ").trim();
  }

  function build(nav, root) {
    const list = nav.querySelector("ul");
    let previous = null;
    root.querySelectorAll(".card[id]").forEach((card) => {
      if (card.parentElement.closest(".card")) return; // a card inside a card is not a section
      let link = list.querySelector(`a[href="#${card.id}"]`);
      if (!link) {
        const text = label(card);
        if (!text) return;
        const item = document.createElement("li");
        item.className = "nav-item";
        link = document.createElement("a");
        link.className = "nav-link";
        link.href = `#${card.id}`;
        link.textContent = text;
        item.appendChild(link);
        list.insertBefore(item, previous ? previous.nextSibling : list.firstChild);
      }
      previous = link.parentElement;
    });
  }

  function spy(nav) {
    const links = [...nav.querySelectorAll("a[href^='#']")];
    const byId = new Map(links.map((a) => [a.getAttribute("href").slice(1), a]));
    const visible = new Set();
    const mark = () => {
      const first = links.find((a) => visible.has(a.getAttribute("href").slice(1)));
      links.forEach((a) => a.classList.toggle("active", a === first));
      // Keep the marked entry in view by scrolling the nav sideways only (scrollIntoView would move the page).
      if (first) nav.scrollLeft = first.offsetLeft - (nav.clientWidth - first.offsetWidth) / 2;
    };
    const observer = new IntersectionObserver(
      (entries) => {
        entries.forEach((e) => (e.isIntersecting ? visible.add(e.target.id) : visible.delete(e.target.id)));
        mark();
      },
      { rootMargin: "-30% 0px -60% 0px" },
    );
    byId.forEach((_link, id) => {
      const section = document.getElementById(id);
      if (section) observer.observe(section);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const nav = document.querySelector("[data-section-nav]");
    const root = document.querySelector("[data-sections]");
    if (!nav || !root) return;
    build(nav, root);
    if ("IntersectionObserver" in window) spy(nav);
  });
})();
