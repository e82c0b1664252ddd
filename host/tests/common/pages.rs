//! A browser for the portal's pages, driven through the router: cookies,
//! forms and their CSRF tokens, signed-in users of each role. Shared by the
//! portal's test files.

use super::app::{App, execute_sql};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;
use std::collections::HashMap;
use tower::ServiceExt;

pub const DAY: i64 = 86_400;

/// A browser: its cookies and its language.
#[derive(Clone, Default)]
pub struct Browser {
    pub cookies: HashMap<String, String>,
    pub language: Option<&'static str>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
    }

    /// The value of the form's hidden `csrf` field.
    pub fn csrf(&self) -> String {
        let start = self.body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        self.body[start..].split('"').next().unwrap().to_string()
    }
}

/// `application/x-www-form-urlencoded` of `fields`.
pub fn form(fields: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                b' ' => "+".to_string(),
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

impl Browser {
    pub fn spanish() -> Browser {
        Browser { language: Some("es-ES,es;q=0.9,en;q=0.5"), ..Browser::default() }
    }

    pub async fn request(&mut self, app: &App, method: &str, uri: &str, body: Option<String>) -> Page {
        let body = body.map(|b| ("application/x-www-form-urlencoded".to_string(), b.into_bytes()));
        self.send(app, method, uri, body).await
    }

    /// A POST of `fields` and one file as `multipart/form-data`.
    pub async fn upload(&mut self, app: &App, uri: &str, fields: &[(&str, &str)], file: (&str, &[u8])) -> Page {
        let boundary = "----pactum-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"plugin.wasm\"\r\n\
                 Content-Type: application/wasm\r\n\r\n",
                file.0
            )
            .as_bytes(),
        );
        body.extend_from_slice(file.1);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.send(app, "POST", uri, Some((format!("multipart/form-data; boundary={boundary}"), body))).await
    }

    async fn send(&mut self, app: &App, method: &str, uri: &str, body: Option<(String, Vec<u8>)>) -> Page {
        let mut request = Request::builder().method(method).uri(uri);
        if !self.cookies.is_empty() {
            let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(language) = self.language {
            request = request.header(header::ACCEPT_LANGUAGE, language);
        }
        let body = match body {
            Some((content_type, body)) => {
                request = request.header(header::CONTENT_TYPE, content_type);
                Body::from(body)
            }
            None => Body::empty(),
        };
        let response = app.router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
            let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get(&mut self, app: &App, uri: &str) -> Page {
        self.request(app, "GET", uri, None).await
    }

    pub async fn post(&mut self, app: &App, uri: &str, fields: &[(&str, &str)]) -> Page {
        self.request(app, "POST", uri, Some(form(fields))).await
    }

    /// Opens the invitation link and chooses `password`.
    pub async fn accept(&mut self, app: &App, link: &str, password: &str) -> Page {
        let page = self.get(app, link).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csrf = page.csrf();
        self.post(app, link, &[("csrf", &csrf), ("password", password), ("password_again", password)]).await
    }

    /// Signs in with `email` and `password`.
    pub async fn sign_in(&mut self, app: &App, email: &str, password: &str) -> Page {
        let page = self.get(app, "/sign-in").await;
        let csrf = page.csrf();
        self.post(app, "/sign-in", &[("csrf", &csrf), ("email", email), ("password", password)]).await
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

/// A partner of Acme, created by its admin.
pub async fn partner(app: &App, id: &str) {
    let body = json!({ "id": id, "name": format!("Partner {id}"), "kind": "referral", "territories": ["emea"] });
    let (status, answer) = app.send("POST", "/v1/partners", Some(app.key("acme")), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// An invitation by Acme's admin; its link.
pub async fn invite(app: &App, email: &str, role: &str, partner: Option<&str>) -> String {
    let body = json!({ "email": email, "name": "Ana Ruiz", "role": role, "partner_id": partner });
    let (status, answer) = app.send("POST", "/v1/invitations", Some(app.key("acme")), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["link"].as_str().unwrap().to_string()
}

/// A signed-in user of `role` (for `partner`).
pub async fn signed_in(app: &App, email: &str, role: &str, partner: Option<&str>) -> Browser {
    let link = invite(app, email, role, partner).await;
    let mut browser = Browser::default();
    let page = browser.accept(app, &link, PASSWORD).await;
    assert_eq!((page.status, page.location()), (StatusCode::SEE_OTHER, Some("/")), "{}", page.body);
    browser
}

/// An approved registration of `partner` on `domain`, its protection
/// ending half an hour short of `days` from now (set in the database:
/// approvals give 90).
pub async fn registration(app: &App, partner: &str, domain: &str, days: i64) -> String {
    let body = json!({ "partner_id": partner, "account_domain": domain, "account_name": "Globex",
        "industry": "software", "employees": 400, "country": "US",
        "amount": { "amount": 4_500_000, "currency": "USD" } });
    let (status, r) = app.send("POST", "/v1/registrations", Some(app.key("acme")), Some(body)).await;
    assert_eq!((status, r["status"].as_str()), (StatusCode::CREATED, Some("approved")), "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    let until = pactum::service::now() + days * DAY - 1800;
    let sql = format!("UPDATE registrations SET protected_until = {until} WHERE id = '{id}'");
    assert_eq!(execute_sql(&app.database_url, &sql).await, 1);
    id
}
