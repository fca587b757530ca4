//! What the admin hands back to the application to render.

/// A page: the template to render (under `admin/`) with its context, and the status.
#[derive(Debug, Clone)]
pub struct View {
    pub template: &'static str,
    pub context: serde_json::Value,
    pub status: u16,
}

impl View {
    pub(crate) fn new(template: &'static str, context: serde_json::Value) -> Self {
        Self {
            template,
            context,
            status: 200,
        }
    }

    pub(crate) fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

/// The answer to a POST: a page (a confirmation, or a form with errors and 422), or a
/// redirect with a message for the user.
#[derive(Debug, Clone)]
pub enum Outcome {
    Render(View),
    Redirect {
        to: String,
        message: String,
        /// `success` or `error`.
        kind: &'static str,
    },
}
