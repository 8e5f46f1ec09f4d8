//! Property tests (acceptance 1).
