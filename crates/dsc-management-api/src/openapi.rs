// SPDX-License-Identifier: Apache-2.0
//! The OpenAPI document, generated from the endpoint table at start.

use axum::Json;
use serde_json::{Value, json};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ComponentsBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, Required};

use crate::endpoints::{Endpoint, Method, Success};

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ApiErrorList"))).build())
        .build()
}

fn json_response(description: &str, example: Option<Value>) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("JsonLdObject"))).example(example).build(),
        )
        .build()
}

fn operation(endpoint: &Endpoint) -> utoipa::openapi::path::Operation {
    let mut builder = OperationBuilder::new()
        .tag(endpoint.tag)
        .summary(Some(endpoint.summary))
        .security(SecurityRequirement::new("ApiKeyAuth", Vec::<String>::new()));
    if endpoint.path.contains("{id}") {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1))))
                .build(),
        );
    }
    for (name, description) in &endpoint.flags {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(*description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::Boolean)))
                .build(),
        );
    }
    if let Some(example) = &endpoint.request_example {
        let required = if endpoint.body_optional { Required::False } else { Required::True };
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(required))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("JsonLdObject")))
                        .example(Some(example.clone()))
                        .build(),
                )
                .build(),
        ));
    }
    builder = match endpoint.success {
        Success::IdResponse => builder.response(
            "200",
            json_response(
                "Created; the IdResponse names the entity",
                Some(json!({"@context": {"@vocab": "https://w3id.org/edc/v0.0.1/ns/"}, "@type": "IdResponse", "@id": "asset-1", "createdAt": 1_727_772_000_123_i64})),
            ),
        ),
        Success::Entity => builder.response("200", json_response("The entity, compacted JSON-LD", None)),
        Success::EntityList => builder.response(
            "200",
            ResponseBuilder::new()
                .description("A JSON array; each element has its own @context")
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(ArrayBuilder::new().items(Ref::from_schema_name("JsonLdObject")))).build(),
                )
                .build(),
        ),
        Success::NoContent => builder.response("204", ResponseBuilder::new().description("Done").build()),
    };
    builder = builder
        .response("400", error_response("Invalid input; each error names the offending path"))
        .response("401", error_response("Missing or wrong X-Api-Key"))
        .response("503", error_response("The database is unavailable"));
    if endpoint.path.contains("{id}") || matches!(endpoint.method, Method::Put) {
        builder = builder.response("404", error_response("No entity with that id"));
    }
    if matches!(endpoint.success, Success::IdResponse) || matches!(endpoint.method, Method::Delete) {
        builder = builder.response("409", error_response("Duplicate id, or still referenced"));
    }
    if endpoint.request_example.is_some() {
        builder = builder.response("413", error_response("Body over the configured limit"));
    }
    for (status, description) in &endpoint.also_answers {
        builder = builder.response(*status, error_response(description));
    }
    builder.build()
}

/// `base_path` is where the Management API is mounted (`web.http.management.path`): the document's one server, so
/// that tools reading it call `/management/v3/...` rather than `/v3/...`.
pub(crate) fn build(endpoints: &[Endpoint], base_path: &str) -> OpenApi {
    let mut paths = Paths::new();
    for endpoint in endpoints {
        let method = match endpoint.method {
            Method::Get => HttpMethod::Get,
            Method::Post => HttpMethod::Post,
            Method::Put => HttpMethod::Put,
            Method::Delete => HttpMethod::Delete,
        };
        paths.add_path_operation(endpoint.path, vec![method], operation(endpoint));
    }
    let error = ObjectBuilder::new()
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .property("type", ObjectBuilder::new().schema_type(Type::String))
        .property("path", ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null])))
        .property("invalidValue", ObjectBuilder::new().schema_type(SchemaType::AnyValue))
        .required("message")
        .required("type");
    let components = ComponentsBuilder::new()
        .schema("JsonLdObject", ObjectBuilder::new().schema_type(Type::Object).description(Some("A JSON-LD object; keys are expanded against its @context (an object @context without @vocab gets the EDC namespace as @vocab).")))
        .schema("ApiError", error)
        .schema("ApiErrorList", ArrayBuilder::new().items(Ref::from_schema_name("ApiError")))
        .security_scheme("ApiKeyAuth", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))))
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("dsc Management API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("EDC-compatible Management API v3 of the dsc dataspace connector."))
                .build(),
        )
        .servers(Some([ServerBuilder::new().url(if base_path.is_empty() { "/" } else { base_path }).build()]))
        .paths(paths)
        .components(Some(components))
        .build()
}

/// The document as served.
pub(crate) fn document(endpoints: &[Endpoint], base_path: &str) -> Json<Value> {
    Json(serde_json::to_value(build(endpoints, base_path)).unwrap_or_else(|e| json!({ "error": e.to_string() })))
}
