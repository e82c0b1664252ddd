//! People who sign in to the portal: an admin invites them. The portal
//! itself (sign-in, sessions, pages) is `pactum-portal`.

use super::{ApiError, AppState, Auth, Body, Created};
use crate::openapi::Api;
use crate::service::now;
use axum::extract::State;
use pactum_app::users::{Invitation, NewInvitation};

pub(super) fn routes(api: &mut Api) {
    api.post(
        "/v1/invitations",
        "Invite a person to the portal (admin): email, name, role and, for a partner user, the partner. The answer \
         holds a one-time link (`/invitations/{token}`, shown once, valid 7 days) where they choose a password",
        invite,
    );
}

async fn invite(
    State(service): State<AppState>,
    Auth(caller): Auth,
    Body(new): Body<NewInvitation>,
) -> Result<Created<Invitation>, ApiError> {
    Ok(Created(service.create_invitation(&caller, new, now()).await?))
}
