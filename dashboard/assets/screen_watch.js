// The big screen's fast clocks, kept out of Dash's store.
//
// Every change to Dash's store makes the renderer re-check every component on the page
// (measured: the main thread busy all the time with a 400 ms dcc.Interval and a 1 s clock
// callback). So the wall clock, the map panel's size and the "did an alert change?" watch
// run here in plain JavaScript, and touch the store only when something really changed.
(function () {
    "use strict";

    const RETRY_MS = 1000; // after an error, or when the server has no change listener
    const FIND_MS = 100; // how often to look for a newly rendered screen
    const SETTLE_MS = 400;
    let shownVersion = null;
    let shownSize = null;
    let shownMap = null;
    let sizeWatch = null;

    // The stores render no element of their own; the map panel stands for the screen they
    // belong to. A new panel (the screen re-rendered in another language) has fresh stores,
    // so what they were told is forgotten.
    function currentScreen() {
        const map = document.getElementById("grid-map");
        if (map && map !== shownMap) {
            shownMap = map;
            shownVersion = null;
            shownSize = null;
            watchSize(map);
        }
        return map;
    }

    function setProps(id, props) {
        const clientside = window.dash_clientside;
        if (!currentScreen() || !clientside || !clientside.set_props) {
            return false;
        }
        clientside.set_props(id, props);
        return true;
    }

    function pad(value) {
        return String(value).padStart(2, "0");
    }

    function tickClock() {
        const clock = document.getElementById("clock");
        if (clock) {
            const now = new Date();
            clock.textContent =
                `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ` +
                `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
        }
    }

    // Reports the map panel's pixel size when it changes, so the server can zoom the map to
    // fit the grids into the panel this screen really has. The server draws the map only
    // once it knows the size, so the first report goes out as soon as the panel exists.
    function measureMap() {
        const panel = currentScreen();
        if (!panel || !panel.clientWidth || !panel.clientHeight) {
            return;
        }
        const size = [panel.clientWidth, panel.clientHeight];
        if (shownSize && shownSize[0] === size[0] && shownSize[1] === size[1]) {
            return;
        }
        if (setProps("map-size", {data: size})) {
            shownSize = size;
        }
    }

    // The first size goes at once; later ones (the page settling, a window resized) once
    // the size has held still for SETTLE_MS, as each new size redraws the map's view.
    function watchSize(map) {
        if (sizeWatch) {
            sizeWatch.disconnect();
        }
        let settling = null;
        sizeWatch = new ResizeObserver(() => {
            if (!shownSize) {
                measureMap();
                return;
            }
            clearTimeout(settling);
            settling = setTimeout(measureMap, SETTLE_MS);
        });
        sizeWatch.observe(map);
    }

    // Until a screen is there (and after it is replaced) look for it often; a new one is
    // measured at once.
    function findScreen() {
        // Also while no size went out: Dash's set_props may not have been ready at first.
        if (!shownSize || document.getElementById("grid-map") !== shownMap) {
            measureMap();
        }
    }

    // Keeps one request open until the server has heard an alert change (a long poll), so a
    // new alert starts its refresh within milliseconds of its NOTIFY.
    async function watch() {
        if (!currentScreen()) {
            setTimeout(watch, RETRY_MS); // another page: nothing to watch for
            return;
        }
        const seen = shownVersion;
        const started = Date.now();
        let delay = 0;
        try {
            const query = seen === null ? "" : `?after=${seen}`;
            const response = await fetch(`/screen/version${query}`, {cache: "no-store"});
            if (response.ok) {
                const {version} = await response.json();
                currentScreen();
                if (version !== shownVersion && setProps("seen-version", {data: version})) {
                    shownVersion = version;
                }
                if (shownVersion === null) {
                    delay = FIND_MS; // Dash was not ready to take it yet
                } else if (version === seen && Date.now() - started < RETRY_MS) {
                    delay = RETRY_MS; // answered at once, unchanged: nothing listens; no spin
                }
            } else {
                delay = RETRY_MS;
            }
        } catch (err) {
            delay = RETRY_MS; // the server is away; the screen's full refresh reports it
        }
        setTimeout(watch, delay);
    }

    setInterval(tickClock, 1000);
    setInterval(findScreen, FIND_MS);
    setTimeout(watch, 0);
})();
