//! Sign-in: InitiateAuth, AdminInitiateAuth, RespondToAuthChallenge and
//! AdminRespondToAuthChallenge. Each finds the pool and client and hands the request to the
//! engine in [`crate::signin`].

use super::{Caller, Service};
use crate::error::Result;
use cmfa_wire::shapes::{
    AdminInitiateAuthRequest, AdminInitiateAuthResponse, AdminRespondToAuthChallengeRequest,
    AdminRespondToAuthChallengeResponse, InitiateAuthRequest, InitiateAuthResponse, RespondToAuthChallengeRequest,
    RespondToAuthChallengeResponse,
};

impl Service {
    pub async fn initiate_auth(&self, req: InitiateAuthRequest) -> Result<InitiateAuthResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        let p = req.auth_parameters.unwrap_or_default();
        let reply = self
            .start_sign_in(&pool, &client, req.auth_flow, &p, false, req.session.as_deref())
            .await?;
        Ok(reply.into())
    }

    pub async fn admin_initiate_auth(
        &self,
        caller: &Caller,
        req: AdminInitiateAuthRequest,
    ) -> Result<AdminInitiateAuthResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let client = self.load_client(&pool.id, &req.client_id).await?;
        let p = req.auth_parameters.unwrap_or_default();
        let reply = self
            .start_sign_in(&pool, &client, req.auth_flow, &p, true, req.session.as_deref())
            .await?;
        Ok(reply.into())
    }

    pub async fn respond_to_auth_challenge(
        &self,
        req: RespondToAuthChallengeRequest,
    ) -> Result<RespondToAuthChallengeResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        let r = req.challenge_responses.unwrap_or_default();
        let reply = self
            .answer_challenge(&pool, &client, req.challenge_name, req.session.as_deref(), &r)
            .await?;
        Ok(reply.into())
    }

    pub async fn admin_respond_to_auth_challenge(
        &self,
        caller: &Caller,
        req: AdminRespondToAuthChallengeRequest,
    ) -> Result<AdminRespondToAuthChallengeResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let client = self.load_client(&pool.id, &req.client_id).await?;
        let r = req.challenge_responses.unwrap_or_default();
        let reply = self
            .answer_challenge(&pool, &client, req.challenge_name, req.session.as_deref(), &r)
            .await?;
        Ok(reply.into())
    }
}
