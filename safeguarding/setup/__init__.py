"""Each school's set-up checklist: what must be true before it goes live, each item linked to the page that
completes it. Shown to the school's Principal (on the dashboard) and to its trust admins (on the Roles page, their
start page) until every item is done. It lives here because everything it reads is at this layer or below: the
policy and escalation steps, memberships and staff profiles (core), the pupils (families), training and the
prohibited-addresses list (this app), and the text-message setting."""
