//! An open, logged-in PKCS#11 token: the module, its slot, a pool of
//! sessions and a cache of object handles, with recovery from a token that
//! went away (an HSM restart or fail-over): the sessions are reopened, the
//! user logged in again, the handles looked up afresh, and the call retried
//! once.

use std::collections::HashMap;
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::MechanismType;
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use openccm_pki::{PkiError, PkiResult};
use zeroize::Zeroizing;

use super::Pkcs11Config;

/// Why a token call failed, and whether reopening the session may cure it.
pub(super) struct Failure {
    pub(super) error: PkiError,
    recoverable: bool,
}

impl From<PkiError> for Failure {
    fn from(error: PkiError) -> Self {
        Self {
            error,
            recoverable: false,
        }
    }
}

/// The mapping of a PKCS#11 error in `context` (as a [`PkiError::Key`]).
pub(super) fn p11(context: &'static str) -> impl Fn(P11Error) -> Failure {
    move |e| {
        let recoverable = matches!(
            e,
            P11Error::Pkcs11(
                RvError::SessionHandleInvalid
                    | RvError::SessionClosed
                    | RvError::UserNotLoggedIn
                    | RvError::DeviceRemoved
                    | RvError::TokenNotPresent
                    | RvError::ObjectHandleInvalid
                    | RvError::KeyHandleInvalid,
                _
            )
        );
        Failure {
            error: PkiError::Key(format!("PKCS#11 {context}: {e}")),
            recoverable,
        }
    }
}

/// The mechanisms OpenCCM uses. Asked one by one: listing them all makes
/// `cryptoki` log an error for every vendor mechanism it has no name for.
const USED_MECHANISMS: [MechanismType; 6] = [
    MechanismType::AES_KEY_GEN,
    MechanismType::AES_GCM,
    MechanismType::RSA_PKCS_KEY_PAIR_GEN,
    MechanismType::RSA_PKCS,
    MechanismType::ECC_KEY_PAIR_GEN,
    MechanismType::ECDSA,
];

/// An object's kind, for the handle cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    Private,
    Public,
    Secret,
}

impl Kind {
    fn class(self) -> ObjectClass {
        match self {
            Self::Private => ObjectClass::PRIVATE_KEY,
            Self::Public => ObjectClass::PUBLIC_KEY,
            Self::Secret => ObjectClass::SECRET_KEY,
        }
    }
}

/// A logged-in token (see the module comment).
pub(super) struct Token {
    context: Pkcs11,
    slot: Slot,
    pin: Zeroizing<String>,
    /// Idle sessions. A `Session` is `Send` but not `Sync`: each call takes
    /// one. The login, which PKCS#11 keeps per application, covers them all
    /// as long as one stays open.
    sessions: Mutex<Vec<Session>>,
    /// Object handles by kind and `CKA_ID`, valid until a recovery.
    objects: Mutex<HashMap<(Kind, Vec<u8>), ObjectHandle>>,
    mechanisms: Vec<MechanismType>,
}

impl Token {
    pub(super) fn open(config: &Pkcs11Config) -> PkiResult<Self> {
        let context = Pkcs11::new(&config.module).map_err(|e| {
            PkiError::Key(format!(
                "cannot load the PKCS#11 module {}: {e}",
                config.module.display()
            ))
        })?;
        match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(p11("initialisation")(e).error),
        }
        let slots = context
            .get_slots_with_token()
            .map_err(|e| p11("slot listing")(e).error)?;
        let mut chosen = None;
        for slot in slots {
            let info = context
                .get_token_info(slot)
                .map_err(|e| p11("token info")(e).error)?;
            if info.label().trim_end() == config.token_label {
                chosen = Some(slot);
                break;
            }
        }
        let slot = chosen.ok_or_else(|| {
            PkiError::Key(format!(
                "no PKCS#11 token is labelled {:?}",
                config.token_label
            ))
        })?;
        let mechanisms = USED_MECHANISMS
            .into_iter()
            .filter(|m| context.get_mechanism_info(slot, *m).is_ok())
            .collect();
        let token = Self {
            context,
            slot,
            pin: config.pin.clone(),
            sessions: Mutex::new(Vec::new()),
            objects: Mutex::new(HashMap::new()),
            mechanisms,
        };
        let session = token.logged_in_session()?;
        if let Ok(mut sessions) = token.sessions.lock() {
            sessions.push(session);
        }
        Ok(token)
    }

    /// A new session, logged in (a no-op when the application already is).
    fn logged_in_session(&self) -> PkiResult<Session> {
        let session = self
            .context
            .open_rw_session(self.slot)
            .map_err(|e| p11("session")(e).error)?;
        let pin = AuthPin::new(self.pin.as_str().into());
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(e) => Err(p11("login")(e).error),
        }
    }

    /// Starts over after the token went away: every pooled session closed,
    /// every cached handle forgotten, one new logged-in session.
    fn recover(&self) -> PkiResult<()> {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.clear();
        }
        if let Ok(mut objects) = self.objects.lock() {
            objects.clear();
        }
        let session = self.logged_in_session()?;
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.push(session);
        }
        Ok(())
    }

    /// Runs `f` on a pooled session; when it fails in a way a new session
    /// may cure, recovers and runs it once more.
    pub(super) fn with_session<T>(
        &self,
        mut f: impl FnMut(&Session) -> Result<T, Failure>,
    ) -> PkiResult<T> {
        let mut recovered = false;
        loop {
            let pooled = self.sessions.lock().ok().and_then(|mut s| s.pop());
            let session = match pooled {
                Some(s) => s,
                None => self.logged_in_session()?,
            };
            match f(&session) {
                Ok(value) => {
                    if let Ok(mut sessions) = self.sessions.lock() {
                        sessions.push(session);
                    }
                    return Ok(value);
                }
                Err(failure) if failure.recoverable && !recovered => {
                    drop(session);
                    self.recover()?;
                    recovered = true;
                }
                Err(failure) => {
                    if !failure.recoverable {
                        // The session is sound; the request was not.
                        if let Ok(mut sessions) = self.sessions.lock() {
                            sessions.push(session);
                        }
                    }
                    return Err(failure.error);
                }
            }
        }
    }

    pub(super) fn supports(&self, mechanism: MechanismType) -> bool {
        self.mechanisms.contains(&mechanism)
    }

    /// The object of `kind` with `CKA_ID` `id` (cached).
    pub(super) fn object(
        &self,
        session: &Session,
        kind: Kind,
        id: &[u8],
    ) -> Result<ObjectHandle, Failure> {
        let key = (kind, id.to_vec());
        if let Some(handle) = self.objects.lock().ok().and_then(|o| o.get(&key).copied()) {
            return Ok(handle);
        }
        let found = session
            .find_objects(&[Attribute::Class(kind.class()), Attribute::Id(id.to_vec())])
            .map_err(p11("object search"))?;
        // Not found may mean logged out (private objects are invisible
        // then): worth one recovery before it is believed.
        let handle = found.first().copied().ok_or_else(|| Failure {
            error: PkiError::Key("a key's object is missing from the PKCS#11 token".into()),
            recoverable: true,
        })?;
        if let Ok(mut objects) = self.objects.lock() {
            objects.insert(key, handle);
        }
        Ok(handle)
    }

    /// Logs the application out of the token, as a token restart or
    /// fail-over does.
    pub(super) fn log_out(&self) -> PkiResult<()> {
        self.with_session(|session| session.logout().map_err(p11("logout")))
    }

    /// Forgets the cached handles of `id` (its objects were destroyed).
    pub(super) fn forget(&self, id: &[u8]) {
        if let Ok(mut objects) = self.objects.lock() {
            objects.retain(|(_, cached), _| cached != id);
        }
    }
}
