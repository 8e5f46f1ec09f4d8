//! The OpenAPI document (utoipa), served at `/openapi.json`.

use utoipa::OpenApi as _;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "jEAP audit service", description = "Ingest, query and export the audit trail."),
    paths(
        crate::server::healthz,
        crate::server::readyz,
        crate::server::metrics_endpoint,
        crate::server::openapi,
        crate::server::status,
        crate::server::list_records,
        crate::server::ingest,
        crate::server::export,
        crate::server::get_record,
    ),
    modifiers(&Bearer)
)]
struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of every route.
#[must_use]
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
