//! The partner pages' sentences (issue 17, item 3), in English and
//! Spanish: [`super::Messages::partner_pages`].

/// The partner pages' sentences in one language.
#[derive(Debug)]
pub struct PartnerMessages {
    /// The partner navigation's name.
    pub nav_label: &'static str,
    /// Navigation: home.
    pub nav_home: &'static str,
    /// Navigation: register a deal.
    pub nav_register: &'static str,
    /// Navigation: my registrations.
    pub nav_registrations: &'static str,
    /// Navigation: my leads.
    pub nav_leads: &'static str,
    /// Navigation: commission.
    pub nav_commission: &'static str,
    /// Navigation: estimator.
    pub nav_estimate: &'static str,
    /// A staff user on a partner page.
    pub only_partners: &'static str,
    /// The registration form's title.
    pub register_title: &'static str,
    /// Above the form.
    pub register_intro: &'static str,
    /// Label.
    pub account_domain: &'static str,
    /// Hint.
    pub account_domain_hint: &'static str,
    /// Label.
    pub account_name: &'static str,
    /// Label.
    pub amount: &'static str,
    /// Hint.
    pub amount_hint: &'static str,
    /// Label.
    pub currency: &'static str,
    /// Label.
    pub expected_close: &'static str,
    /// Label.
    pub country: &'static str,
    /// Hint.
    pub country_hint: &'static str,
    /// Label.
    pub industry: &'static str,
    /// Label.
    pub employees: &'static str,
    /// Hint for an optional field.
    pub optional: &'static str,
    /// The form's button.
    pub register_button: &'static str,
    /// The live check: registered.
    pub check_taken: &'static str,
    /// The live check: free.
    pub check_free: &'static str,
    /// Bad domain.
    pub err_domain: &'static str,
    /// An empty required field.
    pub err_required: &'static str,
    /// A field too long: {max}.
    pub err_too_long: &'static str,
    /// Bad amount.
    pub err_amount: &'static str,
    /// Bad amount, zero allowed.
    pub err_amount_zero_ok: &'static str,
    /// Amount too large.
    pub err_amount_large: &'static str,
    /// Bad currency.
    pub err_currency: &'static str,
    /// Bad date.
    pub err_date: &'static str,
    /// Bad employees.
    pub err_employees: &'static str,
    /// A service refusal: {reason}.
    pub err_not_saved: &'static str,
    /// Summary above a form with errors.
    pub form_has_errors: &'static str,
    /// A registration's page: {account}.
    pub registration_title: &'static str,
    /// Approved: {date}.
    pub result_approved: &'static str,
    /// In review.
    pub result_review: &'static str,
    /// Rejected.
    pub result_rejected: &'static str,
    /// Any other status: {status}.
    pub result_other: &'static str,
    /// Label: the decision's reason.
    pub why: &'static str,
    /// Column: status.
    pub status: &'static str,
    /// Column: submitted.
    pub submitted: &'static str,
    /// Label: reference.
    pub registration_id: &'static str,
    /// The list's title.
    pub registrations_title: &'static str,
    /// Empty list.
    pub no_registrations: &'static str,
    /// Registration status.
    pub reg_submitted: &'static str,
    /// Registration status.
    pub reg_review: &'static str,
    /// Registration status.
    pub reg_approved: &'static str,
    /// Registration status.
    pub reg_rejected: &'static str,
    /// Registration status.
    pub reg_won: &'static str,
    /// Registration status.
    pub reg_lost: &'static str,
    /// Registration status.
    pub reg_expired: &'static str,
    /// The leads list's title.
    pub leads_title: &'static str,
    /// Empty list.
    pub no_leads: &'static str,
    /// A lead's page: {account}.
    pub lead_title: &'static str,
    /// After a decline.
    pub lead_declined: &'static str,
    /// Deadline: {date}, {left}.
    pub answer_by: &'static str,
    /// Offer ran out.
    pub lead_expired: &'static str,
    /// Accept.
    pub accept_button: &'static str,
    /// Heading.
    pub decline_heading: &'static str,
    /// Label.
    pub decline_reason: &'static str,
    /// Button.
    pub decline_button: &'static str,
    /// Empty reason.
    pub err_decline_reason: &'static str,
    /// Heading.
    pub report_heading: &'static str,
    /// Label.
    pub report_status: &'static str,
    /// Label.
    pub report_note: &'static str,
    /// Button.
    pub report_button: &'static str,
    /// Bad status.
    pub err_report_status: &'static str,
    /// A 409: {reason}.
    pub conflict: &'static str,
    /// Lead status.
    pub lead_offered: &'static str,
    /// Lead status.
    pub lead_accepted: &'static str,
    /// Lead status.
    pub lead_direct: &'static str,
    /// Lead status.
    pub lead_contacted: &'static str,
    /// Lead status.
    pub lead_qualified: &'static str,
    /// Lead status.
    pub lead_converted: &'static str,
    /// Lead status.
    pub lead_disqualified: &'static str,
    /// The statement's title: {period}.
    pub statement_title: &'static str,
    /// Label: the month.
    pub period: &'static str,
    /// Button.
    pub show_button: &'static str,
    /// Link.
    pub previous_month: &'static str,
    /// Link.
    pub next_month: &'static str,
    /// Link.
    pub download_csv: &'static str,
    /// Heading: the months with lines.
    pub months_with_lines: &'static str,
    /// Link.
    pub printable: &'static str,
    /// Hint on the printable page.
    pub print_button: &'static str,
    /// Empty statement.
    pub no_lines: &'static str,
    /// Column.
    pub line: &'static str,
    /// Column.
    pub deal: &'static str,
    /// Column.
    pub kind: &'static str,
    /// Column.
    pub due: &'static str,
    /// Row.
    pub total: &'static str,
    /// Heading.
    pub by_state: &'static str,
    /// A line's page: {id}.
    pub line_title: &'static str,
    /// Label.
    pub description: &'static str,
    /// Heading.
    pub dispute_heading: &'static str,
    /// Label.
    pub dispute_reason: &'static str,
    /// Button.
    pub dispute_button: &'static str,
    /// Empty reason.
    pub err_dispute_reason: &'static str,
    /// Not pending.
    pub cannot_dispute: &'static str,
    /// Link.
    pub back_to_statement: &'static str,
    /// Line state.
    pub state_pending: &'static str,
    /// Line state.
    pub state_payable: &'static str,
    /// Line state.
    pub state_held: &'static str,
    /// Line state.
    pub state_disputed: &'static str,
    /// Line state.
    pub state_paid: &'static str,
    /// Line state.
    pub state_clawed_back: &'static str,
    /// Line state.
    pub state_voided: &'static str,
    /// The estimator's title.
    pub estimate_title: &'static str,
    /// Above the form.
    pub estimate_intro: &'static str,
    /// Label.
    pub first_year_acv: &'static str,
    /// Label.
    pub services: &'static str,
    /// Label.
    pub source: &'static str,
    /// Option.
    pub source_sourced: &'static str,
    /// Option.
    pub source_influenced: &'static str,
    /// Bad source.
    pub err_source: &'static str,
    /// Button.
    pub estimate_button: &'static str,
    /// Result: {amount}.
    pub estimate_result: &'static str,
    /// Plugin failed.
    pub estimate_failed: &'static str,
    /// Below the result.
    pub estimate_note: &'static str,
    /// Label.
    pub explanation: &'static str,
    /// Column.
    pub rate: &'static str,
}

impl PartnerMessages {
    /// A registration status in words.
    pub fn registration_status(&self, status: &str) -> &'static str {
        match status {
            "submitted" => self.reg_submitted,
            "review" => self.reg_review,
            "approved" => self.reg_approved,
            "rejected" => self.reg_rejected,
            "won" => self.reg_won,
            "lost" => self.reg_lost,
            _ => self.reg_expired,
        }
    }

    /// A lead status in words.
    pub fn lead_status(&self, status: &str) -> &'static str {
        match status {
            "offered" => self.lead_offered,
            "accepted" => self.lead_accepted,
            "contacted" => self.lead_contacted,
            "qualified" => self.lead_qualified,
            "converted" => self.lead_converted,
            "disqualified" => self.lead_disqualified,
            _ => self.lead_direct,
        }
    }

    /// A commission line's state in words (see `partner::line_state`).
    pub fn line_state(&self, state: &str) -> &'static str {
        match state {
            "payable" => self.state_payable,
            "held" => self.state_held,
            "disputed" => self.state_disputed,
            "paid" => self.state_paid,
            "clawed_back" => self.state_clawed_back,
            "voided" => self.state_voided,
            _ => self.state_pending,
        }
    }
}

/// English.
pub const EN: PartnerMessages = PartnerMessages {
    nav_label: "Partner pages",
    nav_home: "Home",
    nav_register: "Register a deal",
    nav_registrations: "My registrations",
    nav_leads: "My leads",
    nav_commission: "My commission",
    nav_estimate: "Commission estimator",
    only_partners: "These pages are for a partner's users.",
    register_title: "Register a deal",
    register_intro: "Tell us about the account you are working on. An approved registration protects it for you.",
    account_domain: "Account's domain",
    account_domain_hint: "Like globex.com, without www.",
    account_name: "Account's name",
    amount: "Expected deal value",
    amount_hint: "In the currency chosen below, like 45,000.00.",
    currency: "Currency",
    expected_close: "Expected close",
    country: "Country",
    country_hint: "Two letters, like US or ES. Optional.",
    industry: "Industry",
    employees: "Employees",
    optional: "Optional.",
    register_button: "Register the deal",
    check_taken: "This account is already registered. A new registration on it will probably be rejected.",
    check_free: "No live registration on this account yet.",
    err_domain: "Enter the account's domain, like globex.com.",
    err_required: "Fill in this field.",
    err_too_long: "Use at most {max} characters.",
    err_amount: "Enter an amount greater than zero, like 45,000.00.",
    err_amount_zero_ok: "Enter an amount of zero or more, like 5,000.00.",
    err_amount_large: "This amount is too large.",
    err_currency: "Choose one of the program's currencies.",
    err_date: "Enter the date as year-month-day, like 2027-03-31.",
    err_employees: "Enter the number of employees as a whole number.",
    err_not_saved: "The registration was not saved: {reason}",
    form_has_errors: "Some fields need your attention: see the messages next to them.",
    registration_title: "Registration for {account}",
    result_approved: "Approved. The account is protected for you until {date}.",
    result_review: "In review: a partner manager will decide.",
    result_rejected: "Rejected.",
    result_other: "Status: {status}.",
    why: "Why",
    status: "Status",
    submitted: "Submitted",
    registration_id: "Reference",
    registrations_title: "My registrations",
    no_registrations: "You have not registered a deal yet.",
    reg_submitted: "Submitted",
    reg_review: "In review",
    reg_approved: "Approved",
    reg_rejected: "Rejected",
    reg_won: "Won",
    reg_lost: "Lost",
    reg_expired: "Expired",
    leads_title: "My leads",
    no_leads: "No lead has been offered to you.",
    lead_title: "Lead for {account}",
    lead_declined: "You declined the lead. It has been routed on.",
    answer_by: "Answer by {date} ({left} left).",
    lead_expired: "The time to answer has run out.",
    accept_button: "Accept the lead",
    decline_heading: "Decline it",
    decline_reason: "Why you decline it",
    decline_button: "Decline the lead",
    err_decline_reason: "Say why you decline this lead: the partner manager reads it.",
    report_heading: "Report its status",
    report_status: "New status",
    report_note: "Note for the partner manager",
    report_button: "Save the status",
    err_report_status: "Choose one of the statuses in the list.",
    conflict: "This cannot be done now: {reason}",
    lead_offered: "Offered to you",
    lead_accepted: "Accepted",
    lead_direct: "With direct sales",
    lead_contacted: "Contacted",
    lead_qualified: "Qualified",
    lead_converted: "Converted",
    lead_disqualified: "Disqualified",
    statement_title: "Commission statement, {period}",
    period: "Month",
    show_button: "Show",
    previous_month: "Previous month",
    next_month: "Next month",
    download_csv: "Download as CSV",
    months_with_lines: "Months with commission",
    printable: "Printable statement",
    print_button: "Use your browser's Print command to print or save it as PDF.",
    no_lines: "No commission is due in this month.",
    line: "Line",
    deal: "Deal",
    kind: "Kind",
    due: "Due",
    total: "Total",
    by_state: "By state",
    line_title: "Commission line {id}",
    description: "Description",
    dispute_heading: "Dispute this line",
    dispute_reason: "What is wrong with it",
    dispute_button: "Dispute the line",
    err_dispute_reason: "Say what is wrong with this line: finance reads it.",
    cannot_dispute: "Only a pending line can be disputed.",
    back_to_statement: "Back to the statement",
    state_pending: "Pending (not due yet)",
    state_payable: "Payable in the next payout",
    state_held: "Held for review",
    state_disputed: "Disputed",
    state_paid: "Paid",
    state_clawed_back: "Clawed back",
    state_voided: "Voided",
    estimate_title: "Commission estimator",
    estimate_intro: "Describe a deal to see what your program's current commission plan would pay you if it were won today. Nothing is recorded.",
    first_year_acv: "First-year contract value (software)",
    services: "Services revenue",
    source: "How you are involved",
    source_sourced: "I brought the deal (partner-sourced)",
    source_influenced: "I helped close it (partner-influenced)",
    err_source: "Choose how you are involved.",
    estimate_button: "Estimate",
    estimate_result: "Your commission would be {amount}.",
    estimate_failed: "The commission plan could not compute this deal: a won deal like it would have its commission held for review.",
    estimate_note: "This is an estimate: nothing was recorded, and the amount paid depends on the deal as it is won.",
    explanation: "How it was computed",
    rate: "Rate",
};

/// Spanish.
pub const ES: PartnerMessages = PartnerMessages {
    nav_label: "Páginas de socio",
    nav_home: "Inicio",
    nav_register: "Registrar una oportunidad",
    nav_registrations: "Mis registros",
    nav_leads: "Mis oportunidades",
    nav_commission: "Mis comisiones",
    nav_estimate: "Calculadora de comisiones",
    only_partners: "Estas páginas son para los usuarios de un socio.",
    register_title: "Registrar una oportunidad",
    register_intro: "Cuéntanos qué cuenta estás trabajando. Un registro aprobado la protege para ti.",
    account_domain: "Dominio de la cuenta",
    account_domain_hint: "Por ejemplo globex.com, sin www.",
    account_name: "Nombre de la cuenta",
    amount: "Valor previsto de la oportunidad",
    amount_hint: "En la moneda elegida abajo, por ejemplo 45.000,00.",
    currency: "Moneda",
    expected_close: "Cierre previsto",
    country: "País",
    country_hint: "Dos letras, por ejemplo US o ES. Opcional.",
    industry: "Sector",
    employees: "Empleados",
    optional: "Opcional.",
    register_button: "Registrar la oportunidad",
    check_taken: "Esta cuenta ya está registrada. Un nuevo registro sobre ella probablemente será rechazado.",
    check_free: "Esta cuenta aún no tiene ningún registro vigente.",
    err_domain: "Escribe el dominio de la cuenta, por ejemplo globex.com.",
    err_required: "Rellena este campo.",
    err_too_long: "Usa como máximo {max} caracteres.",
    err_amount: "Escribe un importe mayor que cero, por ejemplo 45.000,00.",
    err_amount_zero_ok: "Escribe un importe de cero o más, por ejemplo 5.000,00.",
    err_amount_large: "Este importe es demasiado grande.",
    err_currency: "Elige una de las monedas del programa.",
    err_date: "Escribe la fecha como año-mes-día, por ejemplo 2027-03-31.",
    err_employees: "Escribe el número de empleados como un número entero.",
    err_not_saved: "El registro no se ha guardado: {reason}",
    form_has_errors: "Algunos campos necesitan tu atención: mira los mensajes junto a ellos.",
    registration_title: "Registro de {account}",
    result_approved: "Aprobado. La cuenta está protegida para ti hasta el {date}.",
    result_review: "En revisión: un responsable de socios decidirá.",
    result_rejected: "Rechazado.",
    result_other: "Estado: {status}.",
    why: "Motivo",
    status: "Estado",
    submitted: "Enviado",
    registration_id: "Referencia",
    registrations_title: "Mis registros",
    no_registrations: "Aún no has registrado ninguna oportunidad.",
    reg_submitted: "Enviado",
    reg_review: "En revisión",
    reg_approved: "Aprobado",
    reg_rejected: "Rechazado",
    reg_won: "Ganado",
    reg_lost: "Perdido",
    reg_expired: "Caducado",
    leads_title: "Mis oportunidades",
    no_leads: "No se te ha ofrecido ninguna oportunidad.",
    lead_title: "Oportunidad de {account}",
    lead_declined: "Has rechazado la oportunidad. Se ha enviado a otro destino.",
    answer_by: "Responde antes del {date} (quedan {left}).",
    lead_expired: "Se ha agotado el tiempo para responder.",
    accept_button: "Aceptar la oportunidad",
    decline_heading: "Rechazarla",
    decline_reason: "Por qué la rechazas",
    decline_button: "Rechazar la oportunidad",
    err_decline_reason: "Di por qué rechazas esta oportunidad: el responsable de socios lo leerá.",
    report_heading: "Informar de su estado",
    report_status: "Nuevo estado",
    report_note: "Nota para el responsable de socios",
    report_button: "Guardar el estado",
    err_report_status: "Elige uno de los estados de la lista.",
    conflict: "Esto no se puede hacer ahora: {reason}",
    lead_offered: "Ofrecida a ti",
    lead_accepted: "Aceptada",
    lead_direct: "Con ventas directas",
    lead_contacted: "Contactada",
    lead_qualified: "Cualificada",
    lead_converted: "Convertida",
    lead_disqualified: "Descartada",
    statement_title: "Extracto de comisiones, {period}",
    period: "Mes",
    show_button: "Mostrar",
    previous_month: "Mes anterior",
    next_month: "Mes siguiente",
    download_csv: "Descargar en CSV",
    months_with_lines: "Meses con comisiones",
    printable: "Extracto para imprimir",
    print_button: "Usa la orden Imprimir de tu navegador para imprimirlo o guardarlo como PDF.",
    no_lines: "No vence ninguna comisión en este mes.",
    line: "Línea",
    deal: "Oportunidad",
    kind: "Tipo",
    due: "Vence",
    total: "Total",
    by_state: "Por estado",
    line_title: "Línea de comisión {id}",
    description: "Descripción",
    dispute_heading: "Reclamar esta línea",
    dispute_reason: "Qué tiene de incorrecto",
    dispute_button: "Reclamar la línea",
    err_dispute_reason: "Di qué tiene de incorrecto esta línea: el equipo financiero lo leerá.",
    cannot_dispute: "Solo se puede reclamar una línea pendiente.",
    back_to_statement: "Volver al extracto",
    state_pending: "Pendiente (aún no vence)",
    state_payable: "A pagar en el próximo pago",
    state_held: "Retenida para revisión",
    state_disputed: "Reclamada",
    state_paid: "Pagada",
    state_clawed_back: "Recuperada",
    state_voided: "Anulada",
    estimate_title: "Calculadora de comisiones",
    estimate_intro: "Describe una oportunidad para ver cuánto te pagaría el plan de comisiones actual de tu programa si se ganara hoy. No se guarda nada.",
    first_year_acv: "Valor del contrato el primer año (software)",
    services: "Ingresos por servicios",
    source: "Cómo participas",
    source_sourced: "Yo aporté la oportunidad (aportada por el socio)",
    source_influenced: "Ayudé a cerrarla (influida por el socio)",
    err_source: "Elige cómo participas.",
    estimate_button: "Calcular",
    estimate_result: "Tu comisión sería de {amount}.",
    estimate_failed: "El plan de comisiones no ha podido calcular esta oportunidad: en una oportunidad ganada así, la comisión quedaría retenida para revisión.",
    estimate_note: "Es una estimación: no se ha guardado nada, y el importe pagado depende de la oportunidad tal como se gane.",
    explanation: "Cómo se ha calculado",
    rate: "Porcentaje",
};
