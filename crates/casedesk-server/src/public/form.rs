//! The public web form: one per case type an admin opened to the web (`web_form = true`),
//! with the fields of its definition. Problems are shown beside their fields, with
//! what was typed kept; a good form becomes a case (with its customer, web contact and
//! files) and the page that gives its reference.

use super::{engine_call, see_other, trouble};
use crate::Hub;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::casetype::CaseTypeDef;
use casedesk_core::engine::permissions::WEB_ACTOR;
use casedesk_core::engine::{FormFile, WebForm};
use casedesk_core::fields::{FieldDef, FieldKind, FieldProblem};
use casedesk_core::{Actor, Command, Error};
use serde::{Deserialize, Serialize};
use serde_json::Map;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The field a bot fills in and a person never sees.
const HONEYPOT: &str = "website";

#[derive(Serialize)]
struct TypeLink {
    id: String,
    name: String,
    description: String,
}

/// The case types customers may open from the web.
pub async fn index(State(hub): State<Arc<Hub>>) -> Response {
    let engine = hub.engine.clone();
    let types = match engine_call(move || engine.form_case_types()).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return trouble(&hub, &e),
        Err(page) => return page,
    };
    let types: Vec<TypeLink> = types
        .into_iter()
        .map(|d| TypeLink { id: d.id.clone(), name: d.name.clone(), description: d.description.clone() })
        .collect();
    hub.pages.render(StatusCode::OK, "form_index.html", serde_json::json!({ "types": types }))
}

/// One input of the form as the template draws it.
#[derive(Serialize)]
struct Input {
    /// The form field's name: `fields.<id>`.
    name: String,
    id: String,
    label: String,
    input_type: &'static str,
    choice: bool,
    choices: Vec<String>,
    required: bool,
    help: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
    max_length: Option<u32>,
    value: String,
    error: Option<String>,
}

fn input_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Number => "number",
        FieldKind::Date => "date",
        FieldKind::Email => "email",
        FieldKind::Phone => "tel",
        FieldKind::Text | FieldKind::Regex | FieldKind::Choice => "text",
    }
}

/// What the customer typed, by form field name, and the problems found, by the same.
#[derive(Default)]
struct Typed {
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
}

fn page(hub: &Hub, status: StatusCode, def: &CaseTypeDef, typed: &Typed) -> Response {
    let value = |name: &str| typed.values.get(name).cloned().unwrap_or_default();
    let inputs: Vec<Input> = def
        .fields
        .iter()
        .map(|f: &FieldDef| {
            let name = format!("fields.{}", f.id);
            Input {
                id: format!("f-{}", f.id),
                label: f.label.clone(),
                input_type: input_type(f.kind),
                choice: f.kind == FieldKind::Choice,
                choices: f.choices.clone(),
                required: f.required,
                help: f.help.clone(),
                min: f.min,
                max: f.max,
                max_length: f.max_length,
                value: value(&name),
                error: typed.errors.get(&name).cloned(),
                name,
            }
        })
        .collect();
    // The summary at the top links each problem to its field, in the form's order.
    let order = ["name", "email", "phone", "intent", "subject", "description"];
    let mut summary: Vec<serde_json::Value> = vec![];
    for name in order.iter().map(|n| n.to_string()).chain(inputs.iter().map(|i| i.name.clone())).chain(["files".into()])
    {
        if let Some(message) = typed.errors.get(&name) {
            let label =
                inputs.iter().find(|i| i.name == name).map(|i| i.label.clone()).unwrap_or_else(|| label_of(&name));
            let anchor = inputs.iter().find(|i| i.name == name).map(|i| i.id.clone()).unwrap_or(name.clone());
            summary.push(serde_json::json!({ "anchor": anchor, "label": label, "message": message }));
        }
    }
    let intents: Vec<serde_json::Value> =
        def.intents.iter().map(|i| serde_json::json!({ "id": i.id, "label": i.label })).collect();
    hub.pages.render(
        status,
        "form.html",
        serde_json::json!({
            "type": { "id": def.id, "name": def.name, "description": def.description },
            "intents": intents,
            "inputs": inputs,
            "values": typed.values,
            "errors": typed.errors,
            "summary": summary,
            "general": typed.errors.get(""),
            "max_files": casedesk_core::engine::MAX_FORM_FILES,
        }),
    )
}

fn label_of(name: &str) -> String {
    match name {
        "name" => "Your name",
        "email" => "Email",
        "phone" => "Phone",
        "intent" => "What it is about",
        "subject" => "Subject",
        "description" => "Details",
        "files" => "Documents and photos",
        other => other,
    }
    .to_string()
}

async fn definition(hub: &Arc<Hub>, case_type: String) -> Result<Arc<CaseTypeDef>, Response> {
    let engine = hub.engine.clone();
    match engine_call(move || engine.web_form_definition(&case_type)).await? {
        Ok(def) => Ok(def),
        Err(Error::NotFound { .. }) => Err(hub.pages.message(
            StatusCode::NOT_FOUND,
            "No such form",
            "There is no form at this address. Start from the list of forms.",
        )),
        Err(e) => Err(trouble(hub, &e)),
    }
}

pub async fn show(State(hub): State<Arc<Hub>>, Path(case_type): Path<String>) -> Response {
    match definition(&hub, case_type).await {
        Ok(def) => page(&hub, StatusCode::OK, &def, &Typed::default()),
        Err(page) => page,
    }
}

pub async fn submit(State(hub): State<Arc<Hub>>, Path(case_type): Path<String>, multipart: Multipart) -> Response {
    let def = match definition(&hub, case_type.clone()).await {
        Ok(def) => def,
        Err(page) => return page,
    };
    let (values, files) = match read_multipart(multipart).await {
        Ok(read) => read,
        Err(page) => return hub.pages.message(page.0, "The form could not be read", &page.1),
    };
    if values.get(HONEYPOT).is_some_and(|v| !v.trim().is_empty()) {
        return hub.pages.message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not accepted",
            "This request looked automated and was not accepted. If you filled in the field \
             'Leave this empty', please send the form again without it.",
        );
    }
    let text = |name: &str| values.get(name).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut fields = Map::new();
    for f in &def.fields {
        let typed = text(&format!("fields.{}", f.id));
        if !typed.is_empty() {
            fields.insert(f.id.clone(), casedesk_core::fields::from_form_text(f, &typed));
        }
    }
    let form = WebForm {
        case_type: case_type.clone(),
        name: text("name"),
        email: text("email"),
        phone: Some(text("phone")).filter(|p| !p.is_empty()),
        intent: Some(text("intent")).filter(|i| !i.is_empty()),
        subject: text("subject"),
        description: values.get("description").cloned().unwrap_or_default(),
        fields,
        files,
        portal_url: hub.pages.public_url.clone(),
    };
    let mut typed = Typed { values: values.into_iter().filter(|(k, _)| k != HONEYPOT).collect(), ..Default::default() };
    // Every problem at once first (a cheap check, and the form's files are not copied);
    // the command then checks the whole case again, cross-field checks among it.
    let engine = hub.engine.clone();
    let problems = match engine_call(move || {
        let problems = engine.form_problems(&form)?;
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        Ok(Ok(engine.execute(&Actor::new(WEB_ACTOR, &[]), Command::SubmitCaseForm { form })?))
    })
    .await
    {
        Ok(Ok(Ok(done))) => {
            let reference = done.reference.unwrap_or_default();
            return see_other(&format!("/form/{case_type}/sent?reference={reference}"));
        }
        Ok(Ok(Err(problems))) => problems,
        // A rule only the whole case checks (a cross-field check), beside its field.
        Ok(Err(Error::InvalidField { field, rule })) => {
            let name = if def.fields.iter().any(|f| f.id == field) { format!("fields.{field}") } else { field };
            vec![FieldProblem { field: name, rule }]
        }
        Ok(Err(e)) => return trouble(&hub, &e),
        Err(page) => return page,
    };
    for p in problems {
        typed.errors.entry(p.field).or_insert(p.rule);
    }
    page(&hub, StatusCode::UNPROCESSABLE_ENTITY, &def, &typed)
}

/// The text fields of a multipart form, and its files (`files`, any number; those
/// without content are the empty file input).
pub(super) async fn read_multipart(
    mut multipart: Multipart,
) -> Result<(BTreeMap<String, String>, Vec<FormFile>), (StatusCode, String)> {
    let mut values = BTreeMap::new();
    let mut files = vec![];
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        let text = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!("The form and its files may be at most {} MiB together.", super::FORM_MAX_BYTES >> 20)
        } else {
            format!("The form was not sent whole ({}). Please try again.", e.body_text())
        };
        (status, text)
    };
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let content_type = field.content_type().unwrap_or("application/octet-stream").to_string();
                let content = field.bytes().await.map_err(unreadable)?;
                if !file_name.is_empty() && !content.is_empty() {
                    files.push(FormFile { file_name, content_type, content: content.to_vec() });
                }
            }
            None => {
                values.insert(name, field.text().await.map_err(unreadable)?);
            }
        }
    }
    Ok((values, files))
}

#[derive(Deserialize)]
pub struct Sent {
    reference: String,
}

/// The page after a case was made: its reference.
pub async fn sent(
    State(hub): State<Arc<Hub>>,
    Path(case_type): Path<String>,
    query: Result<Query<Sent>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let def = match definition(&hub, case_type).await {
        Ok(def) => def,
        Err(page) => return page,
    };
    let Ok(Query(sent)) = query else {
        return hub.pages.message(StatusCode::NOT_FOUND, "No such page", "Start from the list of forms.");
    };
    hub.pages.render(
        StatusCode::OK,
        "form_sent.html",
        serde_json::json!({ "type": { "id": def.id, "name": def.name }, "reference": sent.reference }),
    )
}
