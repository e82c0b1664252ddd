//! The staff console's sentences (`/console/...`), in English and Spanish:
//! a part of the message catalog kept in its own file.

/// The console's sentences in one language.
#[derive(Debug)]
pub struct ConsoleMessages {
    /// The staff navigation's label.
    pub nav_label: &'static str,
    /// Navigation: the review queue.
    pub nav_reviews: &'static str,
    /// Navigation: partners.
    pub nav_partners: &'static str,
    /// Navigation: plugins.
    pub nav_plugins: &'static str,
    /// Navigation: the decision log.
    pub nav_decisions: &'static str,
    /// The review queue's title.
    pub reviews_title: &'static str,
    /// Protection days field.
    pub protection_days: &'static str,
    /// Hint: empty is the program's default; `{days}` is replaced.
    pub protection_days_hint: &'static str,
    /// Approve button.
    pub approve: &'static str,
    /// Reject reason field.
    pub reject_reason: &'static str,
    /// Reject button.
    pub reject: &'static str,
    /// Approved: `{id}` is replaced.
    pub approved_done: &'static str,
    /// Rejected: `{id}` is replaced.
    pub rejected_done: &'static str,
    /// Someone decided first: `{id}` is replaced.
    pub review_conflict: &'static str,
    /// A reason is required.
    pub reason_required: &'static str,
    /// A reason too long.
    pub reason_too_long: &'static str,
    /// Days not a whole number 1 to 3650.
    pub days_invalid: &'static str,
    /// The application refused the input: its words follow.
    pub refused: &'static str,
    /// The partners page's title.
    pub partners_title: &'static str,
    /// No partners yet.
    pub no_partners: &'static str,
    /// New partner heading.
    pub new_partner: &'static str,
    /// Field: id.
    pub partner_id: &'static str,
    /// Hint for the id.
    pub partner_id_hint: &'static str,
    /// Field: name.
    pub name: &'static str,
    /// Field: kind.
    pub kind: &'static str,
    /// Field: territories.
    pub territories: &'static str,
    /// Hint: comma-separated.
    pub territories_hint: &'static str,
    /// Field: manager.
    pub manager: &'static str,
    /// Field: contact email.
    pub contact_email: &'static str,
    /// Create button.
    pub create_partner: &'static str,
    /// Column: tier.
    pub tier: &'static str,
    /// Column: status.
    pub status: &'static str,
    /// A partner exists already.
    pub partner_exists: &'static str,
    /// A required field is empty.
    pub required: &'static str,
    /// Heading: details.
    pub details: &'static str,
    /// Save button.
    pub save: &'static str,
    /// Saved.
    pub saved: &'static str,
    /// Heading: certifications.
    pub certifications: &'static str,
    /// None held.
    pub no_certifications: &'static str,
    /// Field: certification name.
    pub certification: &'static str,
    /// Field: expiry.
    pub expires: &'static str,
    /// Hint: date, empty for never.
    pub expires_hint: &'static str,
    /// Never expires.
    pub never: &'static str,
    /// Issue or renew button.
    pub certify: &'static str,
    /// Not a date.
    pub date_invalid: &'static str,
    /// Heading: lifecycle.
    pub lifecycle: &'static str,
    /// Field: lifecycle step.
    pub step: &'static str,
    /// Step names.
    pub suspend: &'static str,
    /// Step names.
    pub reactivate: &'static str,
    /// Step names.
    pub offboard: &'static str,
    /// Apply a step.
    pub apply_step: &'static str,
    /// A step that does not apply to the partner's status.
    pub step_conflict: &'static str,
    /// Heading: manual tier.
    pub tier_override: &'static str,
    /// Field: new tier.
    pub new_tier: &'static str,
    /// Field: reason.
    pub reason: &'static str,
    /// Override button.
    pub set_tier: &'static str,
    /// The tier is that already.
    pub tier_same: &'static str,
    /// The plugins page's title.
    pub plugins_title: &'static str,
    /// Heading for a hook: `{hook}` is replaced.
    pub hook_heading: &'static str,
    /// Live plugin label.
    pub live: &'static str,
    /// No plugin serves the hook.
    pub none_live: &'static str,
    /// Published plugins label.
    pub published: &'static str,
    /// None published for this hook.
    pub none_published: &'static str,
    /// Column: plugin.
    pub plugin: &'static str,
    /// Column: fixtures.
    pub fixtures: &'static str,
    /// Upload heading.
    pub upload: &'static str,
    /// Field: file.
    pub file: &'static str,
    /// Field: version.
    pub version: &'static str,
    /// Field: hook.
    pub hook: &'static str,
    /// Every hook it exports.
    pub every_hook: &'static str,
    /// Override fixtures checkbox.
    pub override_fixtures: &'static str,
    /// Upload button.
    pub upload_button: &'static str,
    /// What a long action does: the page answers when done.
    pub working_hint: &'static str,
    /// Published result title.
    pub published_title: &'static str,
    /// Fixture verdict label.
    pub fixture_verdict: &'static str,
    /// Cold start: `{ms}` and `{source}` are replaced.
    pub cold_start: &'static str,
    /// First call: `{us}` is replaced.
    pub first_call: &'static str,
    /// Took: `{ms}` is replaced.
    pub took: &'static str,
    /// Upload refused.
    pub upload_refused: &'static str,
    /// No file chosen.
    pub file_required: &'static str,
    /// File over the limit: `{limit}` is replaced.
    pub file_too_large: &'static str,
    /// Name or version not a label.
    pub label_invalid: &'static str,
    /// Fixtures failed: the report follows.
    pub fixtures_failed: &'static str,
    /// Activate button.
    pub activate: &'static str,
    /// Activated: `{hook}` is replaced.
    pub activated: &'static str,
    /// Waiting for a second admin.
    pub waiting_second_admin: &'static str,
    /// Heading: pending activations.
    pub pending_activations: &'static str,
    /// Approve activation button.
    pub approve_activation: &'static str,
    /// Roll back button.
    pub rollback: &'static str,
    /// Rolled back: `{hook}` is replaced.
    pub rolled_back: &'static str,
    /// Shadow button.
    pub shadow: &'static str,
    /// Shadow status: `{plugin}`, `{runs}`, `{agreed}`, `{pct}` replaced.
    pub shadow_status: &'static str,
    /// No shadow runs.
    pub no_shadow: &'static str,
    /// Backtest button.
    pub backtest: &'static str,
    /// Field: from.
    pub from: &'static str,
    /// Field: to.
    pub to: &'static str,
    /// Backtest result title.
    pub backtest_title: &'static str,
    /// Backtest summary: `{decisions}`, `{changed}` replaced.
    pub backtest_summary: &'static str,
    /// Column: recorded.
    pub recorded: &'static str,
    /// Column: candidate.
    pub candidate: &'static str,
    /// Column: difference.
    pub difference: &'static str,
    /// No per-partner amounts.
    pub no_partner_rows: &'static str,
    /// Chart's title.
    pub chart_title: &'static str,
    /// Heading: outcome transitions.
    pub transitions: &'static str,
    /// Column: count.
    pub count: &'static str,
    /// Period reversed.
    pub period_invalid: &'static str,
    /// Back to plugins.
    pub back_plugins: &'static str,
    /// The decision log's title.
    pub decisions_title: &'static str,
    /// Filter button.
    pub filter: &'static str,
    /// No decisions.
    pub no_decisions: &'static str,
    /// Column: decision.
    pub decision: &'static str,
    /// Column: subject.
    pub subject: &'static str,
    /// Column: outcome.
    pub outcome: &'static str,
    /// Column: when.
    pub when: &'static str,
    /// Column: explanation.
    pub explanation: &'static str,
    /// A decision's title: `{id}` is replaced.
    pub decision_title: &'static str,
    /// Label: input.
    pub input: &'static str,
    /// Label: decided by a person.
    pub decided_by: &'static str,
    /// Replay button.
    pub replay: &'static str,
    /// Replay gives the same.
    pub replay_same: &'static str,
    /// Replay differs.
    pub replay_different: &'static str,
    /// Nothing to replay (manual).
    pub replay_manual: &'static str,
    /// Back to the log.
    pub back_decisions: &'static str,
    /// Navigation: payouts.
    pub nav_payouts: &'static str,
    /// The payouts page's title.
    pub payouts_title: &'static str,
    /// Heading: lines still in review.
    pub lines_in_review: &'static str,
    /// No such lines.
    pub no_lines: &'static str,
    /// Column: line.
    pub line: &'static str,
    /// Column: deal.
    pub deal: &'static str,
    /// Column: due.
    pub due: &'static str,
    /// Step names on a line.
    pub hold: &'static str,
    /// Step names on a line.
    pub release: &'static str,
    /// Step names on a line.
    pub void: &'static str,
    /// A line's step done: `{id}` replaced.
    pub line_done: &'static str,
    /// Heading: payout runs.
    pub payout_runs: &'static str,
    /// No runs yet.
    pub no_runs: &'static str,
    /// Field: period.
    pub period: &'static str,
    /// Hint for the period.
    pub period_hint: &'static str,
    /// Field: reference.
    pub reference: &'static str,
    /// Hint for the reference.
    pub reference_hint: &'static str,
    /// Run button.
    pub run_payouts: &'static str,
    /// Column: totals.
    pub totals: &'static str,
    /// Column: payouts.
    pub payouts_count: &'static str,
    /// CSV link.
    pub csv: &'static str,
    /// Nothing paid in a run.
    pub nothing_paid: &'static str,
    /// Not a period.
    pub period_invalid_month: &'static str,
    /// Navigation: leads.
    pub nav_leads: &'static str,
    /// Navigation: program metrics.
    pub nav_metrics: &'static str,
    /// The leads page's title.
    pub leads_title: &'static str,
    /// No leads.
    pub no_leads: &'static str,
    /// Column: where a lead went.
    pub destination: &'static str,
    /// Column: partners offered before.
    pub tried: &'static str,
    /// The metrics page's title.
    pub metrics_title: &'static str,
    /// The period: `{from}` and `{to}` replaced.
    pub metrics_period: &'static str,
    /// Metric name.
    pub metric_partner_revenue: &'static str,
    /// Metric name.
    pub metric_active_partners: &'static str,
    /// Metric name.
    pub metric_partner_win_rate: &'static str,
    /// Metric name.
    pub metric_time_to_first_deal: &'static str,
    /// Metric name.
    pub metric_partner_retention: &'static str,
    /// Rating.
    pub rating_great: &'static str,
    /// Rating.
    pub rating_good: &'static str,
    /// Rating.
    pub rating_below: &'static str,
    /// Rating.
    pub rating_no_data: &'static str,
    /// Column: metric.
    pub metric: &'static str,
    /// Column: value.
    pub value: &'static str,
    /// Column: good benchmark.
    pub good: &'static str,
    /// Column: great benchmark.
    pub great: &'static str,
    /// Column: rating.
    pub rating: &'static str,
    /// Days: `{n}` replaced.
    pub days_value: &'static str,
    /// The chart's title.
    pub metrics_chart: &'static str,
    /// Heading: a period's scorecards: `{period}` replaced.
    pub scorecards: &'static str,
    /// None for the period.
    pub no_scorecards: &'static str,
    /// Column.
    pub registered_deals: &'static str,
    /// Column.
    pub won_deals: &'static str,
    /// Column.
    pub win_rate: &'static str,
    /// Column.
    pub won_revenue: &'static str,
    /// Column: tier before and after.
    pub tier_change: &'static str,
    /// Button: show a period.
    pub show: &'static str,
    /// Button: run a period's scorecards.
    pub run_scorecards: &'static str,
    /// Label: when the partner joined.
    pub joined: &'static str,
    /// A status.
    pub status_active: &'static str,
    /// A status.
    pub status_suspended: &'static str,
    /// A status.
    pub status_offboarded: &'static str,
    /// A status.
    pub status_pending: &'static str,
    /// A status.
    pub status_held: &'static str,
    /// A status.
    pub status_disputed: &'static str,
    /// A status.
    pub status_paid: &'static str,
    /// A status.
    pub status_voided: &'static str,
    /// Shown while a long action runs (with the script).
    pub working: &'static str,
}

impl ConsoleMessages {
    /// A partner's or a commission line's status in this language (the
    /// stored word when unknown).
    pub fn status(&self, status: &str) -> String {
        match status {
            "active" => self.status_active,
            "suspended" => self.status_suspended,
            "offboarded" => self.status_offboarded,
            "pending" => self.status_pending,
            "held" => self.status_held,
            "disputed" => self.status_disputed,
            "paid" => self.status_paid,
            "voided" => self.status_voided,
            other => other,
        }
        .to_string()
    }
}

/// English.
pub static EN: ConsoleMessages = ConsoleMessages {
    nav_label: "Console",
    nav_reviews: "Review queue",
    nav_partners: "Partners",
    nav_plugins: "Plugins",
    nav_decisions: "Decision log",
    reviews_title: "Registrations waiting for review",
    protection_days: "Protection days",
    protection_days_hint: "Leave empty for the program's {days} days.",
    approve: "Approve",
    reject_reason: "Reason for rejecting (the partner reads it)",
    reject: "Reject",
    approved_done: "Registration {id} is approved.",
    rejected_done: "Registration {id} is rejected.",
    review_conflict: "Someone else decided registration {id} first: it is no longer waiting for review.",
    reason_required: "Write a reason: it is required.",
    reason_too_long: "The reason is too long: use at most 1,000 characters.",
    days_invalid: "The protection must be a whole number of days from 1 to 3,650.",
    refused: "This was refused:",
    partners_title: "Partners",
    no_partners: "There are no partners yet.",
    new_partner: "New partner",
    partner_id: "Id",
    partner_id_hint: "Letters, digits, - and _; it cannot change later.",
    name: "Name",
    kind: "Kind",
    territories: "Territories",
    territories_hint: "Separated by commas, for example: emea, us-west.",
    manager: "Partner manager",
    contact_email: "Contact email",
    create_partner: "Create the partner",
    tier: "Tier",
    status: "Status",
    partner_exists: "A partner with this id exists already. Choose another id.",
    required: "This field is required.",
    details: "Details",
    save: "Save",
    saved: "The changes are saved.",
    certifications: "Certifications",
    no_certifications: "No certification is held.",
    certification: "Certification",
    expires: "Expires on",
    expires_hint: "A date as 2027-06-30; leave empty if it does not expire.",
    never: "does not expire",
    certify: "Issue or renew",
    date_invalid: "Write the date as year-month-day, for example 2027-06-30.",
    lifecycle: "Suspend, reactivate or offboard",
    step: "Step",
    suspend: "Suspend",
    reactivate: "Reactivate",
    offboard: "Offboard",
    apply_step: "Apply",
    step_conflict: "This step does not apply to the partner as it is now:",
    tier_override: "Set the tier by hand",
    new_tier: "New tier",
    reason: "Reason",
    set_tier: "Set the tier",
    tier_same: "The partner is at this tier already.",
    plugins_title: "Plugins",
    hook_heading: "Hook: {hook}",
    live: "Live plugin",
    none_live: "No plugin serves this hook.",
    published: "Published plugins",
    none_published: "No published plugin exports this hook.",
    plugin: "Plugin",
    fixtures: "Fixtures",
    upload: "Upload a plugin",
    file: "Component (.wasm)",
    version: "Version",
    hook: "Hook",
    every_hook: "Every hook it exports",
    override_fixtures: "Publish or activate even if the company's fixtures fail (recorded)",
    upload_button: "Upload and check",
    working_hint: "Checking and compiling can take a while; the next page shows the result and how long it took.",
    published_title: "Plugin published",
    fixture_verdict: "Fixture verdict",
    cold_start: "Cold start: {ms} ms ({source}).",
    first_call: "First call: {us} µs.",
    took: "Took {ms} ms.",
    upload_refused: "The plugin was not published",
    file_required: "Choose a component file to upload.",
    file_too_large: "The file is too large: at most {limit} bytes.",
    label_invalid: "Use 1 to 64 letters, digits, -, _, . or +.",
    fixtures_failed: "The company's fixtures fail this plugin:",
    activate: "Activate",
    activated: "The plugin now serves the {hook} hook.",
    waiting_second_admin: "The activation is waiting for a second admin to approve it.",
    pending_activations: "Activations waiting for a second admin",
    approve_activation: "Approve the activation",
    rollback: "Roll back",
    rolled_back: "The {hook} hook is back on its previous plugin.",
    shadow: "Run as shadow",
    shadow_status: "Shadow {plugin}: agreed on {agreed} of {runs} live decisions ({pct} %).",
    no_shadow: "No shadow runs for this hook.",
    backtest: "Backtest",
    from: "From",
    to: "To",
    backtest_title: "Backtest",
    backtest_summary: "{decisions} recorded decisions replayed; the candidate decides {changed} of them differently.",
    recorded: "Recorded",
    candidate: "Candidate",
    difference: "Difference",
    no_partner_rows: "No commission was recorded or would be paid in this period.",
    chart_title: "Commission per partner: recorded and candidate",
    transitions: "How outcomes would change",
    count: "Decisions",
    period_invalid: "The start must be before the end.",
    back_plugins: "Back to the plugins",
    decisions_title: "Decision log",
    filter: "Filter",
    no_decisions: "No decision is recorded.",
    decision: "Decision",
    subject: "About",
    outcome: "Outcome",
    when: "When",
    explanation: "Explanation",
    decision_title: "Decision {id}",
    input: "Input",
    decided_by: "Decided by a person",
    replay: "Replay",
    replay_same: "The replay gives the same answer.",
    replay_different: "The replay gives a different answer.",
    replay_manual: "A person made this decision: there is nothing to replay.",
    back_decisions: "Back to the decision log",
    nav_payouts: "Payouts",
    payouts_title: "Payouts",
    lines_in_review: "Commission lines not yet paid",
    no_lines: "No commission line is waiting.",
    line: "Line",
    deal: "Deal",
    due: "Due",
    hold: "Hold",
    release: "Release",
    void: "Void",
    line_done: "Line {id} is changed.",
    payout_runs: "Payout runs",
    no_runs: "No payout has been run yet.",
    period: "Period",
    period_hint: "The month to pay, as 2026-11.",
    reference: "Reference",
    reference_hint: "Optional: the finance system's reference.",
    run_payouts: "Run the payouts",
    totals: "Totals",
    payouts_count: "Payouts",
    csv: "Download CSV",
    nothing_paid: "nothing paid",
    period_invalid_month: "Write the month as year-month, for example 2026-11.",
    nav_leads: "Leads",
    nav_metrics: "Program metrics",
    leads_title: "Leads and their routing",
    no_leads: "No lead has arrived yet.",
    destination: "Routed to",
    tried: "Offered before",
    metrics_title: "Program metrics",
    metrics_period: "The last 12 months: {from} to {to}.",
    metric_partner_revenue: "Partner share of revenue",
    metric_active_partners: "Active partners",
    metric_partner_win_rate: "Partner win rate",
    metric_time_to_first_deal: "Time to first deal",
    metric_partner_retention: "Partner retention",
    rating_great: "great",
    rating_good: "good",
    rating_below: "below good",
    rating_no_data: "no data",
    metric: "Metric",
    value: "Value",
    good: "Good",
    great: "Great",
    rating: "Rating",
    days_value: "{n} days",
    metrics_chart: "Each metric against the good and great benchmarks",
    scorecards: "Scorecards of {period}",
    no_scorecards: "No scorecard has been run for this period.",
    registered_deals: "Registered",
    won_deals: "Won",
    win_rate: "Win rate",
    won_revenue: "Won revenue",
    tier_change: "Tier",
    show: "Show",
    run_scorecards: "Run the scorecards",
    joined: "Joined",
    status_active: "active",
    status_suspended: "suspended",
    status_offboarded: "offboarded",
    status_pending: "pending",
    status_held: "held",
    status_disputed: "disputed",
    status_paid: "paid",
    status_voided: "voided",
    working: "Working… The result appears here when it is ready.",
};

/// Spanish.
pub static ES: ConsoleMessages = ConsoleMessages {
    nav_label: "Consola",
    nav_reviews: "Revisiones",
    nav_partners: "Socios",
    nav_plugins: "Plugins",
    nav_decisions: "Registro de decisiones",
    reviews_title: "Registros pendientes de revisión",
    protection_days: "Días de protección",
    protection_days_hint: "Déjalo vacío para los {days} días del programa.",
    approve: "Aprobar",
    reject_reason: "Motivo del rechazo (el socio lo leerá)",
    reject: "Rechazar",
    approved_done: "El registro {id} está aprobado.",
    rejected_done: "El registro {id} está rechazado.",
    review_conflict: "Otra persona decidió antes el registro {id}: ya no está pendiente de revisión.",
    reason_required: "Escribe un motivo: es obligatorio.",
    reason_too_long: "El motivo es demasiado largo: usa como máximo 1.000 caracteres.",
    days_invalid: "La protección debe ser un número entero de días entre 1 y 3.650.",
    refused: "Se ha rechazado:",
    partners_title: "Socios",
    no_partners: "Todavía no hay socios.",
    new_partner: "Nuevo socio",
    partner_id: "Identificador",
    partner_id_hint: "Letras, cifras, - y _; no se puede cambiar después.",
    name: "Nombre",
    kind: "Tipo",
    territories: "Territorios",
    territories_hint: "Separados por comas, por ejemplo: emea, us-west.",
    manager: "Gestor del socio",
    contact_email: "Correo de contacto",
    create_partner: "Crear el socio",
    tier: "Nivel",
    status: "Estado",
    partner_exists: "Ya existe un socio con este identificador. Elige otro.",
    required: "Este campo es obligatorio.",
    details: "Datos",
    save: "Guardar",
    saved: "Los cambios están guardados.",
    certifications: "Certificaciones",
    no_certifications: "No tiene ninguna certificación.",
    certification: "Certificación",
    expires: "Caduca el",
    expires_hint: "Una fecha como 2027-06-30; déjalo vacío si no caduca.",
    never: "no caduca",
    certify: "Emitir o renovar",
    date_invalid: "Escribe la fecha como año-mes-día, por ejemplo 2027-06-30.",
    lifecycle: "Suspender, reactivar o dar de baja",
    step: "Paso",
    suspend: "Suspender",
    reactivate: "Reactivar",
    offboard: "Dar de baja",
    apply_step: "Aplicar",
    step_conflict: "Este paso no se aplica al socio en su estado actual:",
    tier_override: "Fijar el nivel a mano",
    new_tier: "Nuevo nivel",
    reason: "Motivo",
    set_tier: "Fijar el nivel",
    tier_same: "El socio ya está en este nivel.",
    plugins_title: "Plugins",
    hook_heading: "Punto de decisión: {hook}",
    live: "Plugin activo",
    none_live: "Ningún plugin atiende este punto de decisión.",
    published: "Plugins publicados",
    none_published: "Ningún plugin publicado exporta este punto de decisión.",
    plugin: "Plugin",
    fixtures: "Casos de prueba",
    upload: "Subir un plugin",
    file: "Componente (.wasm)",
    version: "Versión",
    hook: "Punto de decisión",
    every_hook: "Todos los que exporta",
    override_fixtures: "Publicar o activar aunque fallen los casos de prueba de la empresa (queda registrado)",
    upload_button: "Subir y comprobar",
    working_hint: "Comprobar y compilar puede tardar; la página siguiente muestra el resultado y cuánto tardó.",
    published_title: "Plugin publicado",
    fixture_verdict: "Resultado de los casos de prueba",
    cold_start: "Arranque en frío: {ms} ms ({source}).",
    first_call: "Primera llamada: {us} µs.",
    took: "Tardó {ms} ms.",
    upload_refused: "El plugin no se ha publicado",
    file_required: "Elige un archivo de componente para subir.",
    file_too_large: "El archivo es demasiado grande: como máximo {limit} bytes.",
    label_invalid: "Usa de 1 a 64 letras, cifras, -, _, . o +.",
    fixtures_failed: "Los casos de prueba de la empresa fallan con este plugin:",
    activate: "Activar",
    activated: "El plugin atiende ahora el punto de decisión {hook}.",
    waiting_second_admin: "La activación espera la aprobación de un segundo administrador.",
    pending_activations: "Activaciones que esperan a un segundo administrador",
    approve_activation: "Aprobar la activación",
    rollback: "Volver al anterior",
    rolled_back: "El punto de decisión {hook} vuelve a su plugin anterior.",
    shadow: "Ejecutar en la sombra",
    shadow_status: "Sombra {plugin}: coincidió en {agreed} de {runs} decisiones reales ({pct} %).",
    no_shadow: "No hay ningún plugin en la sombra para este punto de decisión.",
    backtest: "Probar con el historial",
    from: "Desde",
    to: "Hasta",
    backtest_title: "Prueba con el historial",
    backtest_summary: "Se repitieron {decisions} decisiones registradas; el candidato decide {changed} de otra forma.",
    recorded: "Registrado",
    candidate: "Candidato",
    difference: "Diferencia",
    no_partner_rows: "En este periodo no se registró ni se pagaría ninguna comisión.",
    chart_title: "Comisión por socio: registrada y del candidato",
    transitions: "Cómo cambiarían los resultados",
    count: "Decisiones",
    period_invalid: "El inicio debe ser anterior al final.",
    back_plugins: "Volver a los plugins",
    decisions_title: "Registro de decisiones",
    filter: "Filtrar",
    no_decisions: "No hay ninguna decisión registrada.",
    decision: "Decisión",
    subject: "Sobre",
    outcome: "Resultado",
    when: "Cuándo",
    explanation: "Explicación",
    decision_title: "Decisión {id}",
    input: "Entrada",
    decided_by: "Decidida por una persona",
    replay: "Repetir",
    replay_same: "La repetición da la misma respuesta.",
    replay_different: "La repetición da una respuesta distinta.",
    replay_manual: "Esta decisión la tomó una persona: no hay nada que repetir.",
    back_decisions: "Volver al registro de decisiones",
    nav_payouts: "Pagos",
    payouts_title: "Pagos",
    lines_in_review: "Líneas de comisión aún no pagadas",
    no_lines: "Ninguna línea de comisión está pendiente.",
    line: "Línea",
    deal: "Operación",
    due: "Vence",
    hold: "Retener",
    release: "Liberar",
    void: "Anular",
    line_done: "La línea {id} ha cambiado.",
    payout_runs: "Ejecuciones de pago",
    no_runs: "Todavía no se ha ejecutado ningún pago.",
    period: "Periodo",
    period_hint: "El mes que se paga, como 2026-11.",
    reference: "Referencia",
    reference_hint: "Opcional: la referencia del sistema financiero.",
    run_payouts: "Ejecutar los pagos",
    totals: "Totales",
    payouts_count: "Pagos",
    csv: "Descargar CSV",
    nothing_paid: "nada pagado",
    period_invalid_month: "Escribe el mes como año-mes, por ejemplo 2026-11.",
    nav_leads: "Oportunidades",
    nav_metrics: "Métricas del programa",
    leads_title: "Oportunidades y su asignación",
    no_leads: "Todavía no ha llegado ninguna oportunidad.",
    destination: "Asignada a",
    tried: "Ofrecida antes a",
    metrics_title: "Métricas del programa",
    metrics_period: "Los últimos 12 meses: del {from} al {to}.",
    metric_partner_revenue: "Parte de los ingresos con socios",
    metric_active_partners: "Socios activos",
    metric_partner_win_rate: "Tasa de éxito de los socios",
    metric_time_to_first_deal: "Tiempo hasta la primera operación",
    metric_partner_retention: "Retención de socios",
    rating_great: "excelente",
    rating_good: "bueno",
    rating_below: "por debajo de bueno",
    rating_no_data: "sin datos",
    metric: "Métrica",
    value: "Valor",
    good: "Bueno",
    great: "Excelente",
    rating: "Valoración",
    days_value: "{n} días",
    metrics_chart: "Cada métrica frente a los umbrales de bueno y excelente",
    scorecards: "Evaluaciones de {period}",
    no_scorecards: "No se ha hecho ninguna evaluación de este periodo.",
    registered_deals: "Registradas",
    won_deals: "Ganadas",
    win_rate: "Tasa de éxito",
    won_revenue: "Ingresos ganados",
    tier_change: "Nivel",
    show: "Mostrar",
    run_scorecards: "Hacer las evaluaciones",
    joined: "Alta",
    status_active: "activo",
    status_suspended: "suspendido",
    status_offboarded: "dado de baja",
    status_pending: "pendiente",
    status_held: "retenida",
    status_disputed: "en disputa",
    status_paid: "pagada",
    status_voided: "anulada",
    working: "Trabajando… El resultado aparecerá aquí cuando esté listo.",
};
