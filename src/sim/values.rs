//! Generators for single field values, formatted the way the wolkvox API
//! writes them (wolkvox-api.md §5): every value a string, durations
//! `HH:MM:SS`, percents `"34.64 %"`, wall-clock datetimes, Spanish names with
//! accents, placeholders now and then.
//!
//! A value is picked from the field's catalog type plus rules on its key
//! (ids, names, phones, codes). Which rows exist and when is `data`'s job;
//! this module only fills one row given its context.

use std::fmt::Write as _;

use jiff::{ToSpan, civil, tz::TimeZone};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::catalog::FieldType;

/// The generator every simulated value comes from.
pub(crate) type SimRng = ChaCha8Rng;

/// A generator seeded by a hash of the seed and the parts naming what is
/// generated, so each (endpoint, slot) has its own reproducible stream.
pub(crate) fn rng_for(seed: u64, parts: &[&str]) -> SimRng {
    let mut hash = Sha256::new();
    hash.update(seed.to_le_bytes());
    for part in parts {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    SimRng::from_seed(hash.finalize().into())
}

/// The wall-clock format of datetimes in bodies.
pub(crate) const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

const FIRST_NAMES: &[&str] = &[
    "José",
    "María",
    "Ana",
    "Luis",
    "Sofía",
    "Andrés",
    "Camila",
    "Juan Pablo",
    "Valentina",
    "Nicolás",
    "Ángela",
    "Sebastián",
    "Óscar",
    "Inés",
    "Iván",
    "Daniela",
    "Jesús",
    "Lucía",
];
const LAST_NAMES: &[&str] = &[
    "Muñoz",
    "Peña",
    "Gómez",
    "Rodríguez",
    "Pérez",
    "Martínez",
    "López",
    "Hernández",
    "Díaz",
    "Castaño",
    "Ibáñez",
    "Núñez",
    "Zúñiga",
    "Ordóñez",
    "Álvarez",
    "Londoño",
];
const CITIES: &[&str] = &["Bogotá", "Medellín", "Cali", "Barranquilla", "Cúcuta", "Popayán"];
const STATES: &[&str] = &["Cundinamarca", "Antioquia", "Valle del Cauca", "Atlántico", "Cauca"];
const CODES: &[(&str, &str)] = &[
    ("Acuerdo_de_Pago", "Acuerdo de pago"),
    ("Volver_a_Llamar", "Volver a llamar"),
    ("No_Contesta", "No contesta"),
    ("Venta_Exitosa", "Venta exitosa"),
    ("Información", "Información general"),
    ("TIMEOUTACW", "Tiempo de ACW agotado"),
    ("TIMEOUTCHAT", "Chat cerrado por inactividad"),
];
const TEXTS: &[&str] = &[
    "Cliente solicita información del saldo",
    "Dice \"no tengo plata\", llamar el viernes",
    "Acordó pago de $150.000, con descuento",
    "Línea 1: cliente molesto\nLínea 2: se escala a supervisión",
    "Se envía el enlace, confirma recepción 👍",
    "Pregunta por la señal; niño en casa, volver a llamar",
    "Quiere cancelar, \"ya pagué\" según él",
    "Sin novedad",
    "Reclamo por cobro doble, radicado #4521",
];
const RESULTS_UPPER: &[&str] =
    &["ANSWER", "ANSWER-MACHINE", "BUSY", "NO-ANSWER", "CONGESTION", "FAILED", "ABANDON"];
const RESULTS: &[&str] = &["Answer", "Busy", "No answer", "Abandon", "Failed", "Congestion"];
const TYPE_INTERACTION: &[&str] =
    &["inbound", "out_pre", "outbound_ma", "internal call", "transfer", "conference"];
const CHANNELS: &[&str] =
    &["chat-whatsapp", "chat-web", "chat-facebook", "chat-instagram", "omni-email", "inbound"];
const AUX_STATES: &[&str] = &["Baño", "Almuerzo", "Capacitación", "Pausa activa", "Break"];
const STATUSES: &[&str] = &["READY", "TALK", "ACW", "RING", "Baño", "Almuerzo"];
const FEELINGS: &[&str] = &["very negative", "negative", "neutral", "positive", "very positive"];
const FLAG_KEYS: &[&str] = &[
    "hit",
    "greeting",
    "go_to_agent",
    "yes/no",
    "enabled",
    "chat",
    "studio",
    "voice",
    "recall",
    "rellamada",
    "screen_recording",
    "pbx",
    "video_call",
    "stereo_recording",
    "gamification",
    "text_analytics",
    "speech_analytics",
    "rsync",
    "wolkvox_storage",
    "blob_storage",
    "aws_s3",
    "intelligentdial",
    "bi",
    "customer_prot",
    "mr_wizard",
    "turbo_dial",
    "sso",
    "mailgun",
    "whatsapp",
    "facebook_page",
    "facebook_messenger",
    "instagram_page",
    "instagram_chat",
    "sms_bidireccional",
    "chat_web",
    "telegram",
    "crm",
    "cobrowsing",
    "evaluation_survey",
];
const SECONDS_KEYS: &[&str] =
    &["time_seg", "abandon_time", "answer_time", "asa", "ata", "chat_duration", "time_state_now"];
const LONG_TEXT_KEYS: &[&str] = &[
    "comment",
    "comments",
    "comentarios",
    "message",
    "mensaje",
    "body",
    "text",
    "audio_text",
    "summary",
    "customer_query",
    "routing_answer",
    "recognized_text",
    "tts_text",
    "ai_comment",
    "feedback",
    "notification",
    "comments_customer_reg",
    "subject",
    "question",
    "answer",
    "explation",
    "treatment",
    "action",
    "description",
    "rellamada_info",
];

/// A person of the simulated operation: an agent, or a routing point or
/// bot that shows up where agents do.
#[derive(Clone, Debug)]
pub(crate) struct Agent {
    pub id: String,
    pub dni: String,
    pub name: String,
}

/// A skill (queue).
#[derive(Clone, Debug)]
pub(crate) struct Skill {
    pub id: String,
    pub name: String,
}

/// The agents, skills and campaigns of one simulated operation.
#[derive(Clone, Debug)]
pub(crate) struct Pool {
    pub agents: Vec<Agent>,
    pub skills: Vec<Skill>,
    pub campaigns: Vec<String>,
}

impl Pool {
    /// The pool of an operation, fixed by the seed and its name.
    pub(crate) fn new(seed: u64, operation: &str) -> Pool {
        let mut rng = rng_for(seed, &["pool", operation]);
        let mut agents = Vec::new();
        for i in 0..12u32 {
            let prefix = ["", "", "COM-", "ING-"][rng.random_range(0..4)];
            let gap = if rng.random_bool(0.15) { "  " } else { " " };
            let name = format!("{prefix}{}{gap}{}", pick(&mut rng, FIRST_NAMES), last(&mut rng));
            let id = format!("{}", 10_001 + i * 37 + rng.random_range(0..30));
            let dni = format!("{}", rng.random_range(10_000_000u64..1_999_999_999));
            agents.push(Agent { id, dni, name });
        }
        agents.push(Agent {
            id: "61182".into(),
            dni: String::new(),
            name: "Routing_point_61182".into(),
        });
        agents.push(Agent { id: "99999".into(), dni: String::new(), name: "chat_bot".into() });
        let names = ["Ventas", "Cobranza", "Servicio al cliente", "Retención", "Soporte técnico"];
        let skills = names
            .iter()
            .enumerate()
            .map(|(i, n)| Skill { id: format!("{}", 4_101 + i * 12), name: (*n).to_string() })
            .collect();
        let campaigns = (0..4).map(|i| format!("{}", 301 + i * 7)).collect();
        Pool { agents, skills, campaigns }
    }
}

/// Everything one row's values depend on besides the random stream.
pub(crate) struct RowCtx<'a> {
    /// The event's wall-clock time (detail rows), or a time inside the
    /// window (aggregates and snapshots).
    pub at: civil::DateTime,
    /// The window asked, for aggregates.
    pub window: Option<(civil::DateTime, civil::DateTime)>,
    pub tz: &'a TimeZone,
    pub operation: &'a str,
    /// The row's agent; `other` is a second one (transfer targets).
    pub agent: &'a Agent,
    pub other: &'a Agent,
    pub skill: &'a Skill,
    pub campaign: &'a str,
    /// The row's place in its response or slot, for ids.
    pub index: usize,
    /// The hour the row reports on, for rows per hour.
    pub hour_slot: Option<civil::DateTime>,
    /// The field that places the row in time: it gets `at` exactly.
    pub time_key: Option<&'a str>,
    /// Results are upper-case (`campaign_*` reports).
    pub upper_results: bool,
    /// `date` is written `YYYYMMDD` (gamification's `stats.date`).
    pub compact_date: bool,
    /// `from`/`to` are e-mail addresses rather than `AGENT`/`CUSTOMER`.
    pub email_from: bool,
    pub customer: &'a Customer,
}

/// The customer a row is about.
#[derive(Clone, Debug)]
pub(crate) struct Customer {
    pub first: String,
    pub last: String,
    pub id: String,
    pub phone: String,
    pub email: String,
}

impl Customer {
    pub(crate) fn new(rng: &mut SimRng) -> Customer {
        let first = pick(rng, FIRST_NAMES).to_string();
        let last = last(rng);
        let id = format!("{}", rng.random_range(1_000_000u64..1_299_999_999));
        let phone = phone(rng);
        let email = format!("{}.{}@correo.com.co", ascii_lower(&first), ascii_lower(&last));
        Customer { first, last, id, phone, email }
    }
}

/// The value of one field.
pub(crate) fn value(key: &str, ty: FieldType, cx: &RowCtx<'_>, rng: &mut SimRng) -> String {
    if cx.time_key == Some(key) {
        return format_datetime(cx.at);
    }
    match ty {
        FieldType::Text => text(key, cx, rng),
        FieldType::Integer => integer(key, rng),
        FieldType::Decimal => format!("{:.2}", rng.random_range(0.0..100.0f64)),
        FieldType::Duration => duration(key, cx, rng),
        FieldType::Percent => percent(key, rng),
        FieldType::Datetime => datetime(key, cx, rng),
        FieldType::Date => date(key, cx, rng),
        FieldType::Hour => hour(cx),
    }
}

/// `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn format_datetime(at: civil::DateTime) -> String {
    at.strftime(DATETIME_FORMAT).to_string()
}

fn text(key: &str, cx: &RowCtx<'_>, rng: &mut SimRng) -> String {
    if let Some(v) = identity(key, cx, rng) {
        return v;
    }
    if rng.random_bool(0.04) {
        return pick(rng, &["-", "", "--"]).to_string();
    }
    if FLAG_KEYS.contains(&key) || key.ends_with("_active") {
        return pick(rng, &["yes", "no"]).to_string();
    }
    if LONG_TEXT_KEYS.contains(&key) {
        return long_text(key, rng);
    }
    enumerated(key, cx, rng).unwrap_or_else(|| word(key, rng))
}

/// Ids, names and phones: never placeholders, consistent within a row.
fn identity(key: &str, cx: &RowCtx<'_>, rng: &mut SimRng) -> Option<String> {
    let other = ["destiny_", "receiver_"].iter().any(|p| key.starts_with(p));
    let agent = if other { cx.other } else { cx.agent };
    let v = match key {
        "conn_id" | "id_call" | "connect_id" | "conn_id_transfer" | "id_call_origin"
        | "conversational_id" => conn_id(cx, rng),
        "chat_id" | "session_id" | "case_id" | "id_text" | "audio_id" | "id" => {
            format!("{}", rng.random_range(100_000_000u64..999_999_999))
        }
        k if k.ends_with("agent_id") || k == "id_agent" => agent.id.clone(),
        k if k.ends_with("agent_name") || k == "name_agent" || k == "agent_user" => {
            agent.name.clone()
        }
        k if k.ends_with("agent_dni") => agent.dni.clone(),
        "skill_id" => cx.skill.id.clone(),
        "skill_name" | "skill" => cx.skill.name.clone(),
        "campaign_id" | "campaing_id" | "id_campaing" => cx.campaign.to_string(),
        "customer_name" | "nombre_cliente" | "fromname" | "from_name" => cx.customer.first.clone(),
        "customer_last_name" | "apellido_cliente" => cx.customer.last.clone(),
        "customer_id" | "id_cliente" | "protected_nit" => cx.customer.id.clone(),
        "customer_email" | "email" => cx.customer.email.clone(),
        "telephone"
        | "ani"
        | "customer_phone"
        | "phone_number"
        | "dial_phone"
        | "tel1"
        | "telephone_destination"
        | "rellamada_tel" => cx.customer.phone.clone(),
        k if k.starts_with("tel") && k[3..].bytes().all(|b| b.is_ascii_digit() || b == b'_') => {
            phone(rng)
        }
        "tel_extra" => phone(rng),
        "dnis" | "dn_transfer" => format!("60{}", rng.random_range(10_000_000u32..99_999_999)),
        "rp_id" | "connector_id" | "channel_id" => format!("{}", rng.random_range(1_000..99_999)),
        "operation" => cx.operation.to_string(),
        "from" | "to" if cx.email_from => {
            if key == "from" {
                cx.customer.email.clone()
            } else {
                "servicio@empresa.com.co".into()
            }
        }
        "from" | "quien_hablo" | "last_participant_who_spoke" | "last_sender" => {
            pick(rng, &["AGENT", "CUSTOMER"]).to_string()
        }
        "to_name" => cx.agent.name.clone(),
        _ => return None,
    };
    Some(v)
}

fn enumerated(key: &str, cx: &RowCtx<'_>, rng: &mut SimRng) -> Option<String> {
    let v = match key {
        "result" | "resultado" | "skill_result" | "call_result" | "machinecode" => {
            let set = if cx.upper_results { RESULTS_UPPER } else { RESULTS };
            pick(rng, set).to_string()
        }
        "type_interaction" | "type_call" | "type" => pick(rng, TYPE_INTERACTION).to_string(),
        "channel" | "canal" | "chanel" | "nlp_channel" | "last_channel" => {
            pick(rng, CHANNELS).to_string()
        }
        k if k.starts_with("cod_act") || k.starts_with("cod_rslt") || k == "last_code_act" => {
            pick(rng, CODES).0.to_string()
        }
        k if k.starts_with("description_cod") => pick(rng, CODES).1.to_string(),
        "feeling" => pick(rng, FEELINGS).to_string(),
        "agent_status" | "status" => pick(rng, STATUSES).to_string(),
        "aux_state" => pick(rng, AUX_STATES).to_string(),
        "hang_up" | "hung_up" => pick(rng, &["agent", "customer"]).to_string(),
        "city" | "ciudad" => pick(rng, CITIES).to_string(),
        "state" | "departamento" => pick(rng, STATES).to_string(),
        "country" | "pais" => "Colombia".to_string(),
        "gender" | "sexo" => pick(rng, &["M", "F"]).to_string(),
        "id_type" | "tipo_doc" => pick(rng, &["CC", "CE", "NIT", "PA"]).to_string(),
        "age" | "edad" => format!("{}", rng.random_range(18..80)),
        "address" | "direccion" => {
            format!(
                "Calle {} # {}-{}",
                rng.random_range(1..150),
                rng.random_range(1..99),
                rng.random_range(1..99)
            )
        }
        "ip" => format!(
            "10.{}.{}.{}",
            rng.random_range(0..255),
            rng.random_range(0..255),
            rng.random_range(1..255)
        ),
        "q01" | "q02" | "q03" | "q04" | "q05" | "q06" | "q07" | "q08" | "q09" | "q10" => {
            if rng.random_bool(0.2) {
                "-".to_string()
            } else {
                format!("{}", rng.random_range(1..=5))
            }
        }
        "day_of_week" => cx.at.date().strftime("%A").to_string(),
        "month" => cx.at.date().strftime("%B").to_string(),
        "type_ip" => pick(rng, &["temporal", "permanente"]).to_string(),
        "type_code" => pick(rng, &["cod_act1", "cod_act2"]).to_string(),
        "type_campaign" => pick(rng, &["predictive", "preview"]).to_string(),
        "estado_chat" => pick(rng, &["010", "020", "030"]).to_string(),
        _ => return None,
    };
    Some(v)
}

/// `<extension>.<4 digits>.<unix epoch>.<seq>`, the epoch being the
/// event's wall clock read in the operation's zone (5 h ahead in Bogotá).
fn conn_id(cx: &RowCtx<'_>, rng: &mut SimRng) -> String {
    let epoch = cx.at.to_zoned(cx.tz.clone()).map(|z| z.timestamp().as_second()).unwrap_or(0);
    let ext = &cx.agent.id;
    format!("{ext}.{:04}.{epoch}.{}", rng.random_range(0..10_000), cx.index)
}

fn long_text(key: &str, rng: &mut SimRng) -> String {
    let mut text = pick(rng, TEXTS).to_string();
    let html = matches!(key, "message" | "mensaje" | "body");
    if html && rng.random_bool(0.1) {
        let n = rng.random_range(1_000..9_999);
        let _ =
            write!(text, " <a href=\"https://files.wolkvox.com/adjuntos/{n}.pdf\">soporte.pdf</a>");
    }
    text
}

fn word(key: &str, rng: &mut SimRng) -> String {
    const WORDS: &[&str] =
        &["general", "prioritario", "campaña", "señal", "básico", "atención", "revisión"];
    if key.starts_with("opt") {
        return format!("{} {}", pick(rng, WORDS), rng.random_range(1..100));
    }
    pick(rng, WORDS).to_string()
}

fn integer(key: &str, rng: &mut SimRng) -> String {
    if rng.random_bool(0.01) {
        return "--".to_string();
    }
    let big = ["chars", "total", "records", "characters", "limit", "storage"];
    let max = if big.iter().any(|b| key.contains(b)) { 50_000 } else { 60 };
    format!("{}", rng.random_range(0..max))
}

fn duration(key: &str, cx: &RowCtx<'_>, rng: &mut SimRng) -> String {
    if SECONDS_KEYS.contains(&key) {
        return format!("{}", rng.random_range(0..600));
    }
    // Aggregates over several days sum hours of work and pass 24 h.
    let span_hours = cx.window.map(|(a, b)| a.duration_until(b).as_hours().max(1)).unwrap_or(1);
    let max = if span_hours > 24 { span_hours * 3_600 / 2 } else { 3_600 };
    format_duration(rng.random_range(0..max.max(1)))
}

/// `HH:MM:SS`, hours allowed past 24.
pub(crate) fn format_duration(secs: i64) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3_600, secs / 60 % 60, secs % 60)
}

fn percent(key: &str, rng: &mut SimRng) -> String {
    if key == "preview_percent" && rng.random_bool(0.1) {
        let n = rng.random_range(1_000..20_000);
        return format!("{},{:03}.{:02} %", n / 1_000, n % 1_000, rng.random_range(0..100));
    }
    match rng.random_range(0..20) {
        0 => "0.00 %".to_string(),
        1 => "100 %".to_string(),
        _ => format!("{:.2} %", rng.random_range(0.0..100.0f64)),
    }
}

fn datetime(key: &str, cx: &RowCtx<'_>, rng: &mut SimRng) -> String {
    if matches!(key, "logout" | "date_delete" | "date_recall") && rng.random_bool(0.05) {
        return "-".to_string();
    }
    let later = ["end", "close", "logout", "last_update", "last_date"];
    let secs = rng.random_range(0..3_600i64);
    let at = if later.iter().any(|l| key.contains(l)) {
        cx.at.checked_add(secs.seconds())
    } else {
        cx.at.checked_sub(secs.seconds())
    };
    format_datetime(at.unwrap_or(cx.at))
}

fn date(key: &str, cx: &RowCtx<'_>, _rng: &mut SimRng) -> String {
    let day = step_date(cx);
    if key == "date" && cx.compact_date {
        // `gamification stats.date` is the one date written without dashes.
        return day.strftime("%Y%m%d").to_string();
    }
    day.strftime("%Y-%m-%d").to_string()
}

/// The row's day: that of its hour for rows per hour; otherwise the
/// window's first day plus the row index, kept inside the window.
fn step_date(cx: &RowCtx<'_>) -> civil::Date {
    if let Some(slot) = cx.hour_slot {
        return slot.date();
    }
    let Some((start, end)) = cx.window else {
        return cx.at.date();
    };
    let days = (end.date() - start.date()).get_days().max(0) as usize;
    let step = (cx.index % (days + 1)) as i64;
    start.date().checked_add(step.days()).unwrap_or(start.date())
}

/// `"HH:00"`: the hour the row reports on.
fn hour(cx: &RowCtx<'_>) -> String {
    format!("{:02}:00", cx.hour_slot.unwrap_or(cx.at).hour())
}

fn phone(rng: &mut SimRng) -> String {
    format!("57{}", rng.random_range(3_000_000_000u64..3_509_999_999))
}

fn last(rng: &mut SimRng) -> String {
    format!("{} {}", pick(rng, LAST_NAMES), pick(rng, LAST_NAMES))
}

fn ascii_lower(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let base = match c {
            'á' | 'Á' => 'a',
            'é' | 'É' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'Ó' => 'o',
            'ú' | 'Ú' => 'u',
            'ñ' | 'Ñ' => 'n',
            ' ' => '.',
            c => c.to_ascii_lowercase(),
        };
        out.push(base);
    }
    out
}

/// One element of a non-empty list.
pub(crate) fn pick<T: Copy>(rng: &mut SimRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::value::{Parsed, parse};

    fn cx_for<'a>(pool: &'a Pool, tz: &'a TimeZone, customer: &'a Customer) -> RowCtx<'a> {
        RowCtx {
            at: civil::date(2026, 12, 1).at(10, 15, 0, 0),
            window: None,
            tz,
            operation: "demo",
            agent: &pool.agents[0],
            other: &pool.agents[1],
            skill: &pool.skills[0],
            campaign: &pool.campaigns[0],
            index: 3,
            hour_slot: None,
            time_key: Some("date"),
            upper_results: false,
            compact_date: false,
            email_from: false,
            customer,
        }
    }

    #[test]
    fn values_read_as_their_type() {
        let pool = Pool::new(7, "demo");
        let tz = TimeZone::get("America/Bogota").unwrap();
        let mut rng = rng_for(7, &["t"]);
        let customer = Customer::new(&mut rng);
        let cx = cx_for(&pool, &tz, &customer);
        let types = [
            ("calls", FieldType::Integer),
            ("cost", FieldType::Decimal),
            ("aht", FieldType::Duration),
            ("occupancy", FieldType::Percent),
            ("login", FieldType::Datetime),
            ("day", FieldType::Date),
            ("hour", FieldType::Hour),
        ];
        for _ in 0..200 {
            for (key, ty) in types {
                let v = value(key, ty, &cx, &mut rng);
                assert_ne!(parse(ty, &v), Parsed::Invalid, "{key} {v:?}");
            }
        }
        assert_eq!(value("date", FieldType::Datetime, &cx, &mut rng), "2026-12-01 10:15:00");
    }

    #[test]
    fn conn_id_embeds_the_epoch_five_hours_ahead() {
        let pool = Pool::new(7, "demo");
        let tz = TimeZone::get("America/Bogota").unwrap();
        let mut rng = rng_for(7, &["t"]);
        let customer = Customer::new(&mut rng);
        let cx = cx_for(&pool, &tz, &customer);
        let id = value("conn_id", FieldType::Text, &cx, &mut rng);
        let parts: Vec<&str> = id.split('.').collect();
        assert_eq!(parts.len(), 4, "{id}");
        assert_eq!(parts[0], pool.agents[0].id);
        assert_eq!(parts[1].len(), 4);
        let utc: jiff::Timestamp = "2026-12-01T15:15:00Z".parse().unwrap();
        assert_eq!(parts[2], utc.as_second().to_string());
        assert_eq!(parts[3], "3");
    }

    #[test]
    fn pool_is_fixed_by_seed() {
        let a = Pool::new(1, "demo");
        let b = Pool::new(1, "demo");
        assert_eq!(a.agents[3].name, b.agents[3].name);
        assert!(a.agents.iter().all(|g| g.id.len() == 5), "{:?}", a.agents);
        assert!(a.skills.iter().all(|s| s.id.len() == 4));
    }

    #[test]
    fn durations_pass_a_day() {
        assert_eq!(format_duration(90_061), "25:01:01");
    }
}
