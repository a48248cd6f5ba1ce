mod common;

use casedesk_core::demo;
use casedesk_core::{Command, Error};
use common::*;

#[test]
fn the_catalogue_holds_what_was_configured_and_is_for_supervisors_and_admins() {
    let w = world();
    let c = w.engine.catalogue(&admin()).unwrap();
    assert_eq!(c.case_types.len(), demo::CASE_TYPES.len());
    let tech = c.case_types.iter().find(|t| t.id == "technical").unwrap();
    assert_eq!((tech.version, tech.source.as_str()), (1, demo::CASE_TYPES[0].1));
    assert_eq!(c.calendars.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["office"]);
    assert!(c.staff.iter().any(|s| s.user.id == "alex" && s.profile.is_some()));
    // Every team names a workbin, defined or running with the defaults.
    for team in c.staff.iter().flat_map(|s| &s.user.teams) {
        assert!(c.queues.iter().any(|q| &q.config.id == team), "{team} is listed");
    }
    w.engine
        .execute(
            &admin(),
            Command::SetUserContact { user_id: "alex".into(), email: Some("alex@example.com".into()), phone: None },
        )
        .unwrap();
    let email_of =
        |c: &casedesk_core::engine::Catalogue| c.staff.iter().find(|s| s.user.id == "alex").unwrap().user.email.clone();
    assert_eq!(email_of(&w.engine.catalogue(&admin()).unwrap()).as_deref(), Some("alex@example.com"));
    assert_eq!(email_of(&w.engine.catalogue(&sam()).unwrap()), None, "contact details are for admins");
    assert!(matches!(w.engine.catalogue(&alex()), Err(Error::Forbidden { .. })));
}

#[test]
fn republishing_an_edited_source_shows_the_new_version_and_a_bad_one_changes_nothing() {
    let w = world();
    let (file, source) = demo::CASE_TYPES[0];
    let edited = source.replacen("name = \"Technical\"", "name = \"Technical support\"", 1);
    assert_ne!(edited, source, "the demo's name line is where the test expects it");
    w.engine.execute(&admin(), Command::PublishCaseType { file_name: file.into(), source: edited.clone() }).unwrap();
    let broken = edited.replacen("reference_prefix = ", "reference_prefix = 12 #", 1);
    let refused = w.engine.execute(&admin(), Command::PublishCaseType { file_name: file.into(), source: broken });
    assert!(matches!(refused, Err(Error::CaseTypeFile { .. })), "{refused:?}");

    let c = w.engine.catalogue(&admin()).unwrap();
    let tech = c.case_types.iter().find(|t| t.id == "technical").unwrap();
    assert_eq!((tech.version, tech.name.as_str()), (2, "Technical support"));
    assert_eq!(tech.source, edited);
}

#[test]
fn skills_defined_are_listed_in_order() {
    let w = world();
    let skills = vec!["billing".to_string(), "german".to_string(), "routers".to_string()];
    w.engine.execute(&admin(), Command::DefineSkills { skills: skills.clone() }).unwrap();
    assert_eq!(w.engine.catalogue(&admin()).unwrap().skills, skills);
}

#[test]
fn an_admin_changes_a_users_roles_and_teams_under_the_same_rules_as_creating_one() {
    use casedesk_core::model::Role;
    let w = world();
    let update = |roles: Vec<Role>, teams: Vec<&str>| Command::UpdateUser {
        id: "chris".into(),
        name: "Chris Doe".into(),
        roles,
        teams: teams.into_iter().map(String::from).collect(),
    };
    let refused = w.engine.execute(&admin(), update(vec![], vec!["Finances_group_B"])).unwrap_err();
    assert_eq!(refused.to_string(), "roles: a user needs at least one role");
    let refused = w.engine.execute(&admin(), update(vec![Role::Agent], vec!["two words"])).unwrap_err();
    assert_eq!(refused.to_string(), "teams: 'two words' must be a team name without spaces");
    assert!(matches!(w.engine.execute(&alex(), update(vec![Role::Agent], vec![])), Err(Error::Forbidden { .. })));

    w.engine.execute(&admin(), update(vec![Role::Agent, Role::Supervisor], vec!["Finances_group_B"])).unwrap();
    let chris = w.engine.catalogue(&admin()).unwrap().staff.into_iter().find(|s| s.user.id == "chris").unwrap();
    assert_eq!(chris.user.name, "Chris Doe");
    assert_eq!(chris.user.roles, [Role::Agent, Role::Supervisor]);
    assert_eq!(chris.user.teams, ["Finances_group_B"]);

    // The last admin keeps the role; an agent who is no longer one goes off queue.
    let ada =
        Command::UpdateUser { id: "ada".into(), name: "Ada".into(), roles: vec![Role::Supervisor], teams: vec![] };
    let refused = w.engine.execute(&admin(), ada).unwrap_err();
    assert_eq!(refused.to_string(), "roles: ada is the last admin; make someone else an admin first");
    let bea = casedesk_core::Actor::new("bea", &[Role::Agent]);
    w.engine.execute(&bea, Command::SetOnQueue { on_queue: true }).unwrap();
    let to_supervisor =
        Command::UpdateUser { id: "bea".into(), name: "Bea".into(), roles: vec![Role::Supervisor], teams: vec![] };
    w.engine.execute(&admin(), to_supervisor).unwrap();
    let agent = w.engine.read(|db| db.agent("bea")).unwrap().unwrap();
    assert!(!agent.on_queue);
}
