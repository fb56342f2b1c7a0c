// The big screen's fast clocks, kept out of Dash's store.
//
// Every change to Dash's store makes the renderer re-check every component on the page, and
// with a few hundred list rows that costs more CPU than the page has to give on a video-wall
// PC (measured: the main thread busy all the time with a 400 ms dcc.Interval and a 1 s clock
// callback). So the wall clock, the map panel's size and the "did an alert change?" poll run
// here in plain JavaScript, and touch the store only when something really changed.
(function () {
    "use strict";

    const WATCH_MS = 400; // how often to ask "did an alert change?" (a tiny request)
    const SIZE_MS = 1000;
    let shownVersion = null;
    let shownSize = null;
    let shownMap = null;

    // The stores render no element of their own; the map panel stands for the screen they
    // belong to. A new panel (the screen re-rendered in another language) has fresh stores,
    // so what they were told is forgotten.
    function currentScreen() {
        const map = document.getElementById("grid-map");
        if (map && map !== shownMap) {
            shownMap = map;
            shownVersion = null;
            shownSize = null;
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
    // fit the grids into the panel this screen really has.
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

    async function watch() {
        if (!document.getElementById("grid-map")) {
            setTimeout(watch, WATCH_MS); // another page: nothing to watch for
            return;
        }
        try {
            const response = await fetch("/screen/version", {cache: "no-store"});
            if (response.ok) {
                const {version} = await response.json();
                currentScreen();
                if (version !== shownVersion && setProps("seen-version", {data: version})) {
                    shownVersion = version;
                }
            }
        } catch (err) {
            // The server is away; the screen's full refresh reports it.
        }
        setTimeout(watch, WATCH_MS);
    }

    setInterval(tickClock, 1000);
    setInterval(measureMap, SIZE_MS);
    setTimeout(watch, WATCH_MS);
})();
