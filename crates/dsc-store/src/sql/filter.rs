// SPDX-License-Identifier: Apache-2.0
//! QuerySpec → SQL for both dialects.
//!
//! JSON columns are stored as text. SQLite reads them with `json_extract`/`json_type`, PostgreSQL with
//! `jsonb_extract_path(_text)` on a `::jsonb` cast. Comparisons are typed by the right operand: strings compare
//! as text (so a stored number `5` equals `"5"` on both backends), numbers compare numerically and only match
//! stored numbers, booleans compare as `"true"`/`"false"`. A missing property never equals anything and is
//! always "not equal".

use dsc_domain::query::PropertyPath;
use dsc_domain::{Criterion, Operator, QuerySpec, SortOrder, namespaces};
use serde_json::Value;
use sqlx::any::{AnyQueryResult, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe};

use super::Dialect;
use crate::StoreError;

#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Float(f64),
}

/// What a query path addresses.
#[derive(Debug, Clone)]
pub(crate) enum Field {
    /// A plain text column.
    Column(&'static str),
    /// A plain numeric column.
    Number(&'static str),
    /// A key path inside a JSON column.
    Json(&'static str, Vec<String>),
}

/// SQL text plus its bind arguments, numbered `$1..$n` (both backends accept that form).
pub struct SqlBuilder {
    dialect: Dialect,
    sql: String,
    args: Vec<Arg>,
}

impl SqlBuilder {
    pub fn new(dialect: Dialect) -> Self {
        SqlBuilder { dialect, sql: String::new(), args: Vec::new() }
    }

    pub fn push(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    pub fn bind(&mut self, arg: Arg) {
        self.args.push(arg);
        self.sql.push_str(&format!("${}", self.args.len()));
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        let mut query = sqlx::query(AssertSqlSafe(self.sql.clone()));
        for arg in &self.args {
            query = match arg {
                Arg::Text(text) => query.bind(text.clone()),
                Arg::OptText(text) => query.bind(text.clone()),
                Arg::Int(number) => query.bind(*number),
                Arg::OptInt(number) => query.bind(*number),
                Arg::Float(number) => query.bind(*number),
            };
        }
        query
    }

    pub(crate) async fn execute(&self, pool: &AnyPool) -> Result<AnyQueryResult, sqlx::Error> {
        self.query().execute(pool).await
    }

    pub(crate) async fn execute_in(&self, connection: &mut sqlx::AnyConnection) -> Result<AnyQueryResult, sqlx::Error> {
        self.query().execute(connection).await
    }

    pub(crate) async fn fetch_optional_in(
        &self,
        connection: &mut sqlx::AnyConnection,
    ) -> Result<Option<AnyRow>, sqlx::Error> {
        self.query().fetch_optional(connection).await
    }

    pub(crate) async fn fetch_optional(&self, pool: &AnyPool) -> Result<Option<AnyRow>, sqlx::Error> {
        self.query().fetch_optional(pool).await
    }

    pub(crate) async fn fetch_all(&self, pool: &AnyPool) -> Result<Vec<AnyRow>, sqlx::Error> {
        self.query().fetch_all(pool).await
    }

    /// The field as text (NULL when absent).
    fn text(&mut self, field: &Field) {
        match (field, self.dialect) {
            // A text column as it is: a cast would keep the database from using its index (`id = ?` would scan).
            (Field::Column(column), _) => self.push(column),
            (Field::Number(column), Dialect::Sqlite) => self.push(&format!("CAST({column} AS TEXT)")),
            (Field::Number(column), Dialect::Postgres) => self.push(&format!("({column})::text")),
            (Field::Json(column, keys), Dialect::Sqlite) => {
                let path = sqlite_json_path(keys);
                self.push(&format!("(CASE json_type({column}, "));
                self.bind(Arg::Text(path.clone()));
                self.push(&format!(
                    ") WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract({column}, "
                ));
                self.bind(Arg::Text(path));
                self.push(") AS TEXT) END)");
            }
            (Field::Json(column, keys), Dialect::Postgres) => {
                self.push(&format!("jsonb_extract_path_text(({column})::jsonb"));
                self.bind_keys(keys);
                self.push(")");
            }
        }
    }

    /// The field as a number (NULL when absent or not a number).
    fn number(&mut self, field: &Field) {
        match (field, self.dialect) {
            (Field::Number(column), _) => self.push(column),
            (Field::Column(_), _) => self.push("NULL"),
            (Field::Json(column, keys), Dialect::Sqlite) => {
                let path = sqlite_json_path(keys);
                self.push(&format!("(CASE WHEN json_type({column}, "));
                self.bind(Arg::Text(path.clone()));
                self.push(&format!(") IN ('integer', 'real') THEN json_extract({column}, "));
                self.bind(Arg::Text(path));
                self.push(") END)");
            }
            (Field::Json(column, keys), Dialect::Postgres) => {
                self.push(&format!("(CASE WHEN jsonb_typeof(jsonb_extract_path(({column})::jsonb"));
                self.bind_keys(keys);
                self.push(&format!(")) = 'number' THEN (jsonb_extract_path_text(({column})::jsonb"));
                self.bind_keys(keys);
                self.push("))::float8 END)");
            }
        }
    }

    fn bind_keys(&mut self, keys: &[String]) {
        for key in keys {
            self.push(", ");
            self.bind(Arg::Text(key.clone()));
        }
    }
}

fn sqlite_json_path(keys: &[String]) -> String {
    let mut path = String::from("$");
    for key in keys {
        path.push_str(&format!(".\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\"")));
    }
    path
}

pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A scalar right operand, typed.
enum Scalar {
    Text(String),
    Number(f64),
}

fn scalar(value: &Value) -> Option<Scalar> {
    match value {
        Value::String(text) => Some(Scalar::Text(text.clone())),
        Value::Number(number) => number.as_f64().map(Scalar::Number),
        Value::Bool(flag) => Some(Scalar::Text(flag.to_string())),
        // `{"@value": x}` and `{"@id": x}` compare by their content.
        Value::Object(object) => object.get("@value").or_else(|| object.get("@id")).and_then(scalar),
        _ => None,
    }
}

fn criterion_path(index: usize, local: &str) -> String {
    format!("{}[{index}]/{}", namespaces::edc("filterExpression"), namespaces::edc(local))
}

/// `(c1 AND c2 ...)` for one filter; `(1 = 1)` for an empty one.
pub(crate) fn push_conjunction(
    sql: &mut SqlBuilder,
    filter: &[Criterion],
    field_of: fn(&PropertyPath) -> Option<Field>,
) -> Result<(), StoreError> {
    if filter.is_empty() {
        sql.push("(1 = 1)");
        return Ok(());
    }
    sql.push("(");
    for (index, criterion) in filter.iter().enumerate() {
        if index > 0 {
            sql.push(" AND ");
        }
        let field = resolve(&criterion.operand_left, field_of, || criterion_path(index, "operandLeft"))?;
        push_condition(sql, &field, criterion, index)?;
    }
    sql.push(")");
    Ok(())
}

pub(crate) fn push_where(
    sql: &mut SqlBuilder,
    spec: &QuerySpec,
    field_of: fn(&PropertyPath) -> Option<Field>,
) -> Result<(), StoreError> {
    if spec.filter_expression.is_empty() {
        return Ok(());
    }
    sql.push(" WHERE ");
    push_conjunction(sql, &spec.filter_expression, field_of)
}

fn resolve(
    path: &str,
    field_of: fn(&PropertyPath) -> Option<Field>,
    error_path: impl Fn() -> String,
) -> Result<Field, StoreError> {
    let parsed = PropertyPath::parse(path).map_err(|e| StoreError::InvalidQuery {
        message: format!("'{path}' is not a property path: {e}"),
        path: error_path(),
    })?;
    field_of(&parsed).ok_or_else(|| StoreError::InvalidQuery {
        message: format!("'{path}' is not a property this entity can be queried by"),
        path: error_path(),
    })
}

fn push_condition(sql: &mut SqlBuilder, field: &Field, criterion: &Criterion, index: usize) -> Result<(), StoreError> {
    let invalid = |message: String| StoreError::InvalidQuery { message, path: criterion_path(index, "operandRight") };
    let operator = criterion.operator;
    match operator {
        Operator::In | Operator::NotIn => {
            let items = criterion.operand_right.as_array().cloned().unwrap_or_default();
            let scalars = items
                .iter()
                .map(|item| {
                    scalar(item).ok_or_else(|| invalid(format!("'{}' needs a list of plain values", operator.symbol())))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if scalars.is_empty() {
                sql.push(if operator == Operator::In { "(1 = 0)" } else { "(1 = 1)" });
                return Ok(());
            }
            if let Field::Column(column) = field {
                // A text column takes the list as one JSON parameter the database unpacks: one bind variable
                // however long the list (SQLite looks bind names up one by one, so a thousand of them cost more
                // than the query), and the column's index still answers it.
                let texts: Vec<String> = scalars
                    .into_iter()
                    .map(|item| match item {
                        Scalar::Text(text) => text,
                        Scalar::Number(number) => format_number(number),
                    })
                    .collect();
                let list = serde_json::to_string(&texts).unwrap_or_else(|_| "[]".into());
                sql.push("(");
                if operator == Operator::NotIn {
                    sql.push(&format!("{column} IS NULL OR {column} NOT IN ("));
                } else {
                    sql.push(&format!("{column} IN ("));
                }
                match sql.dialect {
                    Dialect::Sqlite => sql.push("SELECT value FROM json_each("),
                    Dialect::Postgres => sql.push("SELECT jsonb_array_elements_text(CAST("),
                }
                sql.bind(Arg::Text(list));
                sql.push(match sql.dialect {
                    Dialect::Sqlite => ")))",
                    Dialect::Postgres => " AS jsonb))))",
                });
                return Ok(());
            }
            let single = if operator == Operator::In { Operator::Eq } else { Operator::NotEq };
            let joiner = if operator == Operator::In { " OR " } else { " AND " };
            push_balanced(sql, field, single, joiner, scalars);
        }
        _ => {
            let right = scalar(&criterion.operand_right).ok_or_else(|| {
                invalid(format!("'{}' needs a plain value (string, number or boolean)", operator.symbol()))
            })?;
            if matches!(operator, Operator::Like | Operator::ILike) && matches!(right, Scalar::Number(_)) {
                return Err(invalid(format!("'{}' needs a string pattern", operator.symbol())));
            }
            push_comparison(sql, field, operator, right);
        }
    }
    Ok(())
}

/// `(a OR b OR ...)` as a balanced tree of pairs: a flat chain of a thousand comparisons is a thousand levels deep,
/// past SQLite's expression depth limit (1,000), where the balanced tree is ten.
fn push_balanced(sql: &mut SqlBuilder, field: &Field, operator: Operator, joiner: &str, mut items: Vec<Scalar>) {
    if items.len() == 1 {
        if let Some(item) = items.pop() {
            push_comparison(sql, field, operator, item);
        }
        return;
    }
    let right = items.split_off(items.len() / 2);
    sql.push("(");
    push_balanced(sql, field, operator, joiner, items);
    sql.push(joiner);
    push_balanced(sql, field, operator, joiner, right);
    sql.push(")");
}

fn push_comparison(sql: &mut SqlBuilder, field: &Field, operator: Operator, right: Scalar) {
    let numeric_column = matches!(field, Field::Number(_));
    // A numeric column compared with a numeric-looking string still compares as a number.
    let right = match (right, numeric_column) {
        (Scalar::Text(text), true) => match text.parse::<f64>() {
            Ok(number) => Scalar::Number(number),
            Err(_) => Scalar::Text(text),
        },
        (Scalar::Number(number), false) if matches!(field, Field::Column(_)) => Scalar::Text(format_number(number)),
        (right, _) => right,
    };
    let bind = |sql: &mut SqlBuilder, right: &Scalar| match right {
        Scalar::Text(text) => sql.bind(Arg::Text(text.clone())),
        Scalar::Number(number) if number.fract() == 0.0 && number.abs() < 9.0e15 => sql.bind(Arg::Int(*number as i64)),
        Scalar::Number(number) => sql.bind(Arg::Float(*number)),
    };
    let value = |sql: &mut SqlBuilder, right: &Scalar| match right {
        Scalar::Text(_) => sql.text(field),
        Scalar::Number(_) => sql.number(field),
    };
    match operator {
        Operator::Eq | Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq => {
            let symbol = operator.symbol();
            sql.push("(");
            value(sql, &right);
            sql.push(&format!(" {symbol} "));
            bind(sql, &right);
            sql.push(")");
        }
        Operator::NotEq => {
            sql.push("(");
            value(sql, &right);
            sql.push(" IS NULL OR ");
            value(sql, &right);
            sql.push(" <> ");
            bind(sql, &right);
            sql.push(")");
        }
        Operator::Like => {
            sql.push("(");
            sql.text(field);
            sql.push(" LIKE ");
            bind(sql, &right);
            sql.push(")");
        }
        Operator::ILike => {
            sql.push("(LOWER(");
            sql.text(field);
            sql.push(") LIKE LOWER(");
            bind(sql, &right);
            sql.push("))");
        }
        Operator::Contains => push_contains(sql, field, &right),
        Operator::In | Operator::NotIn => {}
    }
}

/// `contains`: a JSON array holds the value; a plain column contains it as a substring.
fn push_contains(sql: &mut SqlBuilder, field: &Field, right: &Scalar) {
    let text = match right {
        Scalar::Text(text) => text.clone(),
        Scalar::Number(number) => format_number(*number),
    };
    match (field, sql.dialect) {
        (Field::Column(_) | Field::Number(_), _) => {
            sql.push("(");
            sql.text(field);
            sql.push(" LIKE ");
            sql.bind(Arg::Text(format!("%{}%", escape_like(&text))));
            sql.push(" ESCAPE '\\')");
        }
        (Field::Json(column, keys), Dialect::Sqlite) => {
            sql.push(&format!("EXISTS (SELECT 1 FROM json_each({column}, "));
            sql.bind(Arg::Text(sqlite_json_path(keys)));
            match right {
                Scalar::Text(_) => {
                    sql.push(") WHERE type = 'text' AND value = ");
                    sql.bind(Arg::Text(text));
                }
                Scalar::Number(number) => {
                    sql.push(") WHERE type IN ('integer', 'real') AND value = ");
                    sql.bind(Arg::Float(*number));
                }
            }
            sql.push(")");
        }
        (Field::Json(column, keys), Dialect::Postgres) => {
            sql.push(&format!("(jsonb_extract_path(({column})::jsonb"));
            sql.bind_keys(keys);
            match right {
                Scalar::Text(_) => {
                    sql.push(") @> jsonb_build_array((");
                    sql.bind(Arg::Text(text));
                    sql.push(")::text))");
                }
                Scalar::Number(number) => {
                    sql.push(") @> jsonb_build_array((");
                    sql.bind(Arg::Float(*number));
                    sql.push(")::float8))");
                }
            }
        }
    }
}

fn format_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 9.0e15 { format!("{}", number as i64) } else { number.to_string() }
}

pub(crate) fn push_order_and_page(
    sql: &mut SqlBuilder,
    spec: &QuerySpec,
    field_of: fn(&PropertyPath) -> Option<Field>,
) -> Result<(), StoreError> {
    let direction = match spec.sort_order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    };
    sql.push(" ORDER BY ");
    match &spec.sort_field {
        Some(path) => {
            let field = resolve(path, field_of, || namespaces::edc("sortField"))?;
            match field {
                Field::Number(column) => sql.push(column),
                other => sql.text(&other),
            }
            sql.push(&format!(" {direction}, id {direction}"));
        }
        None => sql.push(&format!("created_at {direction}, id {direction}")),
    }
    sql.push(" LIMIT ");
    sql.bind(Arg::Int(i64::from(spec.limit)));
    sql.push(" OFFSET ");
    sql.bind(Arg::Int(i64::from(spec.offset)));
    Ok(())
}
