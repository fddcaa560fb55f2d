//! A Sotto plugin in one file: one tool that needs no capability. Copy this crate to start.

use sotto_plugin_sdk::prelude::*;

/// The arguments, as the planner fills them. Doc comments become the schema's descriptions,
/// which the planner reads.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct GreetArgs {
    /// Who to greet.
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct Greeting {
    text: String,
}

struct Greet;

impl Tool for Greet {
    type Args = GreetArgs;
    type Output = Greeting;

    fn info(&self) -> ToolInfo {
        ToolInfo::new("template_greet", "Greets someone by name.", Risk::ReadOnly)
            .example("say hello to Ada", json!({ "name": "Ada" }))
    }

    fn run(&self, args: GreetArgs) -> Result<Reply<Greeting>, Error> {
        let text = format!("Hello, {}!", args.name);
        Ok(Reply::new(Greeting { text: text.clone() }, text))
    }
}

struct Template;

impl Plugin for Template {
    fn info() -> PluginInfo {
        PluginInfo::new("template", "Template", env!("CARGO_PKG_VERSION"))
    }

    fn tools() -> Vec<Box<dyn DynTool>> {
        vec![tool(Greet)]
    }
}

export_plugin!(Template);
