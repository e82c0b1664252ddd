//! Every sentence the portal shows, in English and Spanish: the one
//! message catalog. A page takes a [`Messages`] and never writes text of
//! its own, so a language is complete or it does not compile (each is one
//! value of the same struct).
//!
//! The language is picked from the request's `Accept-Language`
//! ([`Lang::from_accept_language`]): the first supported language by the
//! client's preference (`q`), English when none is.

pub mod console;
pub mod partner;

pub use console::ConsoleMessages;

/// A language the portal speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English (the default).
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// The language for an `Accept-Language` header: the supported one
    /// with the highest `q` (the first of equals), English when none is.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else { return Lang::En };
        let mut best: Option<(u32, Lang)> = None;
        // At most 32 entries are read: a header is the client's, not ours.
        for entry in header.split(',').take(32) {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .next()
                .map_or(1000, |q| q.trim().parse::<f32>().map_or(0, |q| (q.clamp(0.0, 1.0) * 1000.0) as u32));
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "en" => Lang::En,
                "es" => Lang::Es,
                _ => continue,
            };
            if q > 0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// Its catalog.
    pub fn messages(self) -> &'static Messages {
        match self {
            Lang::En => &EN,
            Lang::Es => &ES,
        }
    }
}

/// The portal's sentences in one language.
#[derive(Debug)]
pub struct Messages {
    /// The language tag (`<html lang>`).
    pub lang: &'static str,
    /// The product's name in the header.
    pub product: &'static str,
    /// Skip link to the main content.
    pub skip_to_content: &'static str,
    /// The sign-in page's title.
    pub sign_in_title: &'static str,
    /// Label of the email field.
    pub email: &'static str,
    /// Label of the password field.
    pub password: &'static str,
    /// Label of the confirmation field.
    pub password_again: &'static str,
    /// Hint under a new password.
    pub password_hint: &'static str,
    /// The sign-in button.
    pub sign_in: &'static str,
    /// The sign-out button.
    pub sign_out: &'static str,
    /// A wrong email or password.
    pub wrong_credentials: &'static str,
    /// Too many failed sign-ins: `{minutes}` is replaced.
    pub throttled: &'static str,
    /// The invitation page's title.
    pub invitation_title: &'static str,
    /// Greeting on the invitation page: `{name}` is replaced.
    pub invitation_intro: &'static str,
    /// The invitation's button.
    pub set_password: &'static str,
    /// A used or expired invitation.
    pub invitation_gone: &'static str,
    /// A password too short: `{min}` is replaced.
    pub password_too_short: &'static str,
    /// A password too long.
    pub password_too_long: &'static str,
    /// The two passwords differ.
    pub passwords_differ: &'static str,
    /// A form without its CSRF token.
    pub forbidden_title: &'static str,
    /// Why it was refused.
    pub csrf_refused: &'static str,
    /// A link back home.
    pub back_home: &'static str,
    /// A page that does not exist (or is not the visitor's).
    pub not_found: &'static str,
    /// Something failed on our side.
    pub server_error: &'static str,
    /// A request the visitor may not make: the reason follows.
    pub not_allowed: &'static str,
    /// Greeting on a home page: `{name}` is replaced.
    pub hello: &'static str,
    /// The partner home's title.
    pub partner_home_title: &'static str,
    /// Heading: the partner's tier.
    pub my_tier: &'static str,
    /// Trailing twelve months' revenue.
    pub trailing_revenue: &'static str,
    /// The caption of the chart of won revenue per month.
    pub revenue_chart: &'static str,
    /// The months' short names, January first.
    pub month_names: [&'static str; 12],
    /// How far to the next tier: `{amount}` and `{tier}` are replaced.
    pub to_next_tier: &'static str,
    /// The next tier's threshold is reached: `{tier}` is replaced.
    pub next_tier_reached: &'static str,
    /// At the top tier.
    pub top_tier: &'static str,
    /// Heading: registrations whose protection ends soon.
    pub ending_registrations: &'static str,
    /// None end within 30 days.
    pub no_ending_registrations: &'static str,
    /// Heading: leads awaiting an answer.
    pub waiting_leads: &'static str,
    /// None wait.
    pub no_waiting_leads: &'static str,
    /// Column: account.
    pub account: &'static str,
    /// Column: amount.
    pub amount: &'static str,
    /// Column: protection ends.
    pub protection_ends: &'static str,
    /// Column: source of a lead.
    pub source: &'static str,
    /// Column: time left to answer.
    pub time_left: &'static str,
    /// Column: registration id.
    pub registration: &'static str,
    /// Column: partner.
    pub partner: &'static str,
    /// Column: why it waits.
    pub reason: &'static str,
    /// Column: submitted.
    pub submitted: &'static str,
    /// The staff home's title.
    pub staff_home_title: &'static str,
    /// Heading: the review queue.
    pub review_queue: &'static str,
    /// The queue is empty.
    pub review_queue_empty: &'static str,
    /// Tier names.
    pub tier_registered: &'static str,
    /// Tier names.
    pub tier_silver: &'static str,
    /// Tier names.
    pub tier_gold: &'static str,
    /// Tier names.
    pub tier_platinum: &'static str,
    /// Days and hours left: `{d}`, `{h}` are replaced.
    pub days_hours: &'static str,
    /// Hours and minutes left: `{h}`, `{m}` are replaced.
    pub hours_minutes: &'static str,
    /// The decimal and thousands separators for money.
    pub separators: (char, char),
    /// The partner pages' sentences.
    pub partner_pages: partner::PartnerMessages,
    /// The staff console's sentences.
    pub console: &'static ConsoleMessages,
}

impl Messages {
    /// A tier's name in this language (the stored name when unknown).
    pub fn tier(&self, tier: &str) -> String {
        match tier {
            "registered" => self.tier_registered,
            "silver" => self.tier_silver,
            "gold" => self.tier_gold,
            "platinum" => self.tier_platinum,
            other => other,
        }
        .to_string()
    }

    /// A time left, `seconds` from now: days and hours, or hours and
    /// minutes under a day.
    pub fn time_left(&self, seconds: i64) -> String {
        let s = seconds.max(0);
        let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
        if d > 0 {
            self.days_hours.replace("{d}", &d.to_string()).replace("{h}", &h.to_string())
        } else {
            self.hours_minutes.replace("{h}", &h.to_string()).replace("{m}", &m.to_string())
        }
    }

    /// `amount` minor units of `currency` with `digits` decimals, grouped
    /// in thousands with this language's separators: `USD 120,000.00`.
    pub fn money(&self, amount: i64, currency: &str, digits: u32) -> String {
        let (decimal, thousands) = self.separators;
        let negative = amount < 0;
        let amount = amount.unsigned_abs();
        let scale = 10u64.pow(digits);
        let (whole, fraction) = (amount / scale, amount % scale);
        let whole = whole.to_string();
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(thousands);
            }
            grouped.push(c);
        }
        let sign = if negative { "-" } else { "" };
        if digits == 0 {
            format!("{currency} {sign}{grouped}")
        } else {
            format!("{currency} {sign}{grouped}{decimal}{fraction:0width$}", width = digits as usize)
        }
    }
}

/// English.
pub static EN: Messages = Messages {
    lang: "en",
    product: "Pactum partner portal",
    skip_to_content: "Skip to the content",
    sign_in_title: "Sign in",
    email: "Email",
    password: "Password",
    password_again: "Password again",
    password_hint: "At least 12 characters. A few words you will remember make a good one.",
    sign_in: "Sign in",
    sign_out: "Sign out",
    wrong_credentials: "The email or the password is wrong. Check both and try again.",
    throttled: "Too many failed sign-ins for this email. Try again in {minutes} minutes.",
    invitation_title: "Choose your password",
    invitation_intro: "Welcome, {name}. Choose a password to finish setting up your account.",
    set_password: "Save the password and sign in",
    invitation_gone: "This invitation link has been used already or has expired. Ask your administrator for a new one.",
    password_too_short: "The password must be at least {min} characters long.",
    password_too_long: "The password is too long: use at most 1,024 characters.",
    passwords_differ: "The two passwords are not the same. Type the same password twice.",
    forbidden_title: "This form cannot be sent",
    csrf_refused: "The form was missing its security token or it had expired. Go back, reload the page and send it again.",
    back_home: "Back to the home page",
    not_found: "There is no such page.",
    server_error: "Something went wrong on our side. Try again in a moment.",
    not_allowed: "You may not do this:",
    hello: "Hello, {name}",
    partner_home_title: "Your partner home",
    my_tier: "Your tier",
    trailing_revenue: "Revenue over the last 12 months",
    revenue_chart: "Won revenue per month, over the last 12 months",
    month_names: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    to_next_tier: "{amount} more to reach {tier}.",
    next_tier_reached: "You have reached the revenue for {tier}: the next scorecard decides.",
    top_tier: "You are at the top tier.",
    ending_registrations: "Registrations whose protection ends within 30 days",
    no_ending_registrations: "No registration's protection ends within 30 days.",
    waiting_leads: "Leads waiting for your answer",
    no_waiting_leads: "No lead is waiting for your answer.",
    account: "Account",
    amount: "Amount",
    protection_ends: "Protection ends",
    source: "Source",
    time_left: "Time left to answer",
    registration: "Registration",
    partner: "Partner",
    reason: "Why it waits",
    submitted: "Submitted",
    staff_home_title: "Program home",
    review_queue: "Registrations waiting for review",
    review_queue_empty: "No registration is waiting for review.",
    tier_registered: "Registered",
    tier_silver: "Silver",
    tier_gold: "Gold",
    tier_platinum: "Platinum",
    days_hours: "{d} d {h} h",
    hours_minutes: "{h} h {m} min",
    separators: ('.', ','),
    partner_pages: partner::EN,
    console: &console::EN,
};

/// Spanish.
pub static ES: Messages = Messages {
    lang: "es",
    product: "Portal de socios de Pactum",
    skip_to_content: "Saltar al contenido",
    sign_in_title: "Iniciar sesión",
    email: "Correo electrónico",
    password: "Contraseña",
    password_again: "Repite la contraseña",
    password_hint: "Al menos 12 caracteres. Unas palabras que recuerdes son una buena contraseña.",
    sign_in: "Iniciar sesión",
    sign_out: "Cerrar sesión",
    wrong_credentials: "El correo o la contraseña no son correctos. Revisa ambos e inténtalo de nuevo.",
    throttled: "Demasiados intentos fallidos con este correo. Vuelve a intentarlo dentro de {minutes} minutos.",
    invitation_title: "Elige tu contraseña",
    invitation_intro: "Te damos la bienvenida, {name}. Elige una contraseña para terminar de crear tu cuenta.",
    set_password: "Guardar la contraseña e iniciar sesión",
    invitation_gone: "Este enlace de invitación ya se ha usado o ha caducado. Pide uno nuevo a tu administrador.",
    password_too_short: "La contraseña debe tener al menos {min} caracteres.",
    password_too_long: "La contraseña es demasiado larga: usa como máximo 1.024 caracteres.",
    passwords_differ: "Las dos contraseñas no coinciden. Escribe la misma contraseña dos veces.",
    forbidden_title: "No se puede enviar este formulario",
    csrf_refused: "Al formulario le faltaba su código de seguridad o había caducado. Vuelve atrás, recarga la página y envíalo de nuevo.",
    back_home: "Volver a la página de inicio",
    not_found: "Esa página no existe.",
    server_error: "Algo ha fallado por nuestra parte. Inténtalo de nuevo en un momento.",
    not_allowed: "No puedes hacer esto:",
    hello: "Hola, {name}",
    partner_home_title: "Tu página de socio",
    my_tier: "Tu nivel",
    trailing_revenue: "Ingresos de los últimos 12 meses",
    revenue_chart: "Ingresos ganados por mes, en los últimos 12 meses",
    month_names: ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"],
    to_next_tier: "Te faltan {amount} para llegar a {tier}.",
    next_tier_reached: "Has alcanzado los ingresos de {tier}: la próxima evaluación lo decide.",
    top_tier: "Estás en el nivel más alto.",
    ending_registrations: "Registros cuya protección termina en 30 días o menos",
    no_ending_registrations: "La protección de ningún registro termina en los próximos 30 días.",
    waiting_leads: "Oportunidades que esperan tu respuesta",
    no_waiting_leads: "Ninguna oportunidad espera tu respuesta.",
    account: "Cuenta",
    amount: "Importe",
    protection_ends: "Fin de la protección",
    source: "Origen",
    time_left: "Tiempo para responder",
    registration: "Registro",
    partner: "Socio",
    reason: "Por qué espera",
    submitted: "Enviado",
    staff_home_title: "Inicio del programa",
    review_queue: "Registros pendientes de revisión",
    review_queue_empty: "Ningún registro está pendiente de revisión.",
    tier_registered: "Registrado",
    tier_silver: "Plata",
    tier_gold: "Oro",
    tier_platinum: "Platino",
    days_hours: "{d} d {h} h",
    hours_minutes: "{h} h {m} min",
    separators: (',', '.'),
    partner_pages: partner::ES,
    console: &console::ES,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_follows_accept_language() {
        assert_eq!(Lang::from_accept_language(None), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("es")), Lang::Es);
        assert_eq!(Lang::from_accept_language(Some("es-MX,es;q=0.9,en;q=0.8")), Lang::Es);
        assert_eq!(Lang::from_accept_language(Some("fr-FR,fr;q=0.9,en;q=0.8,es;q=0.7")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("en;q=0.5, es;q=0.9")), Lang::Es);
        assert_eq!(Lang::from_accept_language(Some("de, fr")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("es;q=0")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some(";;;,,,q=")), Lang::En);
    }

    #[test]
    fn money_is_grouped_by_language() {
        assert_eq!(EN.money(12_000_000, "USD", 2), "USD 120,000.00");
        assert_eq!(ES.money(12_000_000, "USD", 2), "USD 120.000,00");
        assert_eq!(EN.money(-5, "USD", 2), "USD -0.05");
        assert_eq!(EN.money(1_000, "JPY", 0), "JPY 1,000");
    }

    #[test]
    fn time_left_reads_in_days_or_hours() {
        assert_eq!(EN.time_left(2 * 86_400 + 3 * 3600 + 59), "2 d 3 h");
        assert_eq!(ES.time_left(5 * 3600 + 20 * 60), "5 h 20 min");
        assert_eq!(EN.time_left(-10), "0 h 0 min");
    }
}
