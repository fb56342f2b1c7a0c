// The big screen's lists (alert feed, dispatch board, grid events), drawn from plain JSON.
//
// Each list reaches the page as one dcc.Store of rows (dashboard/components/screen_list.py);
// a client-side callback hands them to draw(), which builds the rows as plain DOM in the
// panel's element. As Dash components the three lists were ~800 components, and
// dash-renderer re-checked all of them on every store update. A row whose content did not
// change keeps its element, so its thumbnail is not reloaded and its alarm pulse runs on.
(function () {
    "use strict";

    function el(tag, className, text) {
        const node = document.createElement(tag);
        if (className) {
            node.className = className;
        }
        if (text !== undefined && text !== null && text !== "") {
            node.textContent = String(text);
        }
        return node;
    }

    function alertRow(r) {
        const row = el("div", `alert-item severity-${r.severity} state-${r.state}`);
        row.dataset.alertId = String(r.id);
        row.dataset.firstSeen = r.first_seen;
        row.title = r.title;
        const title = el("div", "alert-title");
        title.append(el("span", "alert-type", r.type_text));
        if (r.repeats) {
            title.append(el("span", "alert-badge repeats", r.repeats));
        }
        const body = el("div", "alert-body");
        body.append(title, el("div", "alert-where", r.grid), el("div", "alert-device", r.device));
        row.append(el("div", "alert-severity", r.severity_text), body);
        if (r.thumb) {
            const thumb = el("img", "alert-thumb");
            thumb.src = r.thumb;
            thumb.alt = "";
            row.append(thumb);
        }
        const meta = el("div", "alert-meta");
        meta.append(el("div", "alert-age", r.age), el("div", "alert-state", r.state_text));
        row.append(meta);
        return row;
    }

    function boardRow(r) {
        const flags = (r.overdue ? " overdue" : "") + (r.escalated ? " escalated" : "");
        const row = el("div", `board-row severity-${r.severity}${flags}`);
        row.dataset.orderId = String(r.id);
        const waited = el("span", "board-waited", r.waited);
        waited.title = r.waited_title;
        row.append(
            el("span", "board-state", r.state_text),
            el("span", "board-type", r.type_text),
            waited,
            el("span", "board-grid", r.grid),
            el("span", "board-who", r.who),
        );
        return row;
    }

    function eventRow(r) {
        const row = el("div", `event-row source-${r.kind} severity-${r.severity}`);
        row.dataset.event = r.key;
        const what = el("span", "event-what");
        what.title = r.title;
        what.append(el("b", "", r.type_text), ` ${r.grid}`);
        row.append(el("span", "event-source", r.source_text), what, el("span", "event-age", r.age));
        return row;
    }

    const LISTS = {
        "alert-list": {row: alertRow, empty: "alert-empty"},
        "dispatch-board": {row: boardRow, empty: "panel-empty"},
        "event-feed": {row: eventRow, empty: "panel-empty"},
    };
    const kept = new WeakMap(); // list element -> Map(row JSON -> row element)

    function drawInto(box, list, data) {
        const before = kept.get(box) || new Map();
        const now = new Map();
        const wanted = [];
        for (const row of data.rows) {
            const key = JSON.stringify(row);
            const element = before.get(key) || list.row(row);
            now.set(key, element);
            wanted.push(element);
        }
        if (!wanted.length) {
            wanted.push(el("div", list.empty, data.empty));
        }
        // Move only what moved: a row that stays where it was is not touched.
        let cursor = box.firstChild;
        for (const element of wanted) {
            if (element === cursor) {
                cursor = cursor.nextSibling;
            } else {
                box.insertBefore(element, cursor);
            }
        }
        while (cursor) {
            const next = cursor.nextSibling;
            box.removeChild(cursor);
            cursor = next;
        }
        kept.set(box, now);
    }

    // Called by the client-side callback with the store's data; returns the number of rows
    // drawn (it lands in the element's data-rows attribute).
    function draw(data, listId) {
        const list = LISTS[listId];
        if (!list || !data || !Array.isArray(data.rows)) {
            return window.dash_clientside.no_update;
        }
        const attempt = (triesLeft) => {
            const box = document.getElementById(listId);
            if (box) {
                drawInto(box, list, data);
            } else if (triesLeft > 0) {
                // The callback can run before React has mounted a freshly rendered screen.
                requestAnimationFrame(() => attempt(triesLeft - 1));
            }
        };
        attempt(120);
        return data.rows.length;
    }

    // One listener for every alert row, present or future: a click opens the alert.
    document.addEventListener("click", (event) => {
        const row = event.target.closest && event.target.closest("#alert-list .alert-item");
        const clientside = window.dash_clientside;
        if (row && clientside && clientside.set_props) {
            clientside.set_props("selected-alert", {data: Number(row.dataset.alertId)});
        }
    });

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        screen_lists: {draw},
    });
})();
