// The manager view's buttons (dashboard/pages/manager.py). Each one calls the REST API
// with the browser's own session cookie, exactly as any other client of the API would, so
// the rules live in one place; when the API refuses, its reason is shown as it gave it.
// Listening on the document keeps working while Dash redraws the cards.
(function () {
    "use strict";

    function pathFor(orderId, step) {
        const order = encodeURIComponent(orderId);
        return step === "comment"
            ? `/api/v1/work-orders/${order}/comments`
            : `/api/v1/work-orders/${order}/${encodeURIComponent(step)}`;
    }

    function tell(kind, text) {
        const notice = document.getElementById("manager-notice");
        if (!notice) { return; }
        notice.textContent = text;
        notice.dataset.kind = kind;
    }

    async function takeStep(button) {
        const orderId = button.dataset.orderId;
        const step = button.dataset.orderStep;
        const card = button.closest(".order-card");
        const noteField = card ? card.querySelector(".order-note") : null;
        const note = noteField ? noteField.value.trim() : "";
        button.disabled = true;
        try {
            const answer = await fetch(pathFor(orderId, step), {
                method: "POST",
                credentials: "same-origin",
                headers: {"Content-Type": "application/json", "Accept": "application/json"},
                body: JSON.stringify(note ? {note: note} : {}),
            });
            const body = await answer.json().catch(() => ({}));
            if (answer.ok) {
                tell("ok", button.dataset.done);
                if (noteField) { noteField.value = ""; }
                const reload = document.getElementById("manager-reload");
                if (reload) { reload.click(); }
            } else if (answer.status === 401) {
                window.location.assign("/login?next=/manager");
            } else {
                tell("error", `#${orderId}: ${body.error || `${answer.status} ${answer.statusText}`}`);
            }
        } catch (err) {
            tell("error", `#${orderId}: ${err}`);
        } finally {
            button.disabled = false;
        }
    }

    document.addEventListener("click", function (event) {
        const button = event.target.closest("button[data-order-step]");
        if (button && !button.disabled) {
            takeStep(button);
        }
    });
})();
