//! The gallery recognizer workers read, swapped whole for a new version when enrolment changes,
//! so that a match never sees half an update.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::Gallery;

/// A std lock: it is held only to clone or swap an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct SharedGallery(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    current: RwLock<Arc<Gallery>>,
    /// Whole galleries put in place (loads), as against changes applied to the one in hand.
    loads: AtomicU64,
}

impl SharedGallery {
    pub fn new(gallery: Gallery) -> Self {
        let shared = Self::default();
        shared.replace(gallery);
        shared
    }

    pub fn current(&self) -> Arc<Gallery> {
        Arc::clone(&self.0.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Puts a freshly loaded gallery in place.
    pub fn replace(&self, gallery: Gallery) {
        self.0.loads.fetch_add(1, Ordering::Relaxed);
        self.swap(gallery, "load");
    }

    /// Puts in place a version of the current gallery that `change` makes (one person's
    /// templates replaced or removed): no reload of the rest.
    pub fn update(&self, change: impl FnOnce(&Gallery) -> Gallery) {
        let next = change(&self.current());
        self.swap(next, "person");
    }

    /// How many whole galleries were put in place since this was made.
    pub fn loads(&self) -> u64 {
        self.0.loads.load(Ordering::Relaxed)
    }

    fn swap(&self, gallery: Gallery, kind: &str) {
        let m = crate::metrics::metrics();
        m.recognize_gallery_templates.set(gallery.len() as i64);
        m.recognize_gallery_people.set(gallery.people() as i64);
        m.recognize_gallery_version.inc();
        m.recognize_gallery_updates.with_label_values(&[kind]).inc();
        *self.0.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(gallery);
    }
}
