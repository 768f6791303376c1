<?php
/**
 * Plugin Name: newsbot push
 * Description: Tells newsbot (the Telegram distribution bot) the moment a post is published or
 *              updated, so it reaches the channels without waiting for the next feed poll.
 * Version:     1.0.0
 * License:     MIT
 *
 * A must-use plugin: copy this file into wp-content/mu-plugins/ and add to wp-config.php
 *
 *     define( 'NEWSBOT_PUSH_URL', 'https://bot.example.org/ingest' );
 *     define( 'NEWSBOT_INGEST_SECRET', 'same value as NEWSBOT_INGEST_SECRET of the bot' );
 *     // optional:
 *     define( 'NEWSBOT_BREAKING_TERMS', 'breaking,srochno' );   // category/tag slugs
 *     define( 'NEWSBOT_PUSH_POST_TYPES', 'post' );              // comma-separated
 *
 * Each push is a JSON body {"post_id": N, "url": "...", "breaking": true|false} with the
 * headers X-Newsbot-Timestamp (unix seconds) and X-Newsbot-Signature: sha256=<hex>, <hex>
 * being HMAC-SHA256 of "<timestamp>.<body>" with the shared secret. The request does not
 * block the editor's save (the answer is not awaited); if it is lost, the bot's feed poll
 * still finds the post.
 */

defined( 'ABSPATH' ) || exit;

/**
 * After a post, its terms and its meta are saved (so categories are known): push it when
 * it is published now or was published already (an update). Drafts, revisions, autosaves
 * and password-protected posts are not pushed.
 */
function newsbot_push_after_insert( $post_id, $post, $update, $post_before ) {
	if ( ! defined( 'NEWSBOT_PUSH_URL' ) || ! defined( 'NEWSBOT_INGEST_SECRET' ) ) {
		return;
	}
	if ( wp_is_post_revision( $post_id ) || wp_is_post_autosave( $post_id ) ) {
		return;
	}
	if ( 'publish' !== $post->post_status || '' !== $post->post_password ) {
		return;
	}
	if ( ! in_array( $post->post_type, newsbot_push_post_types(), true ) ) {
		return;
	}
	static $pushed = array(); // one push per post per PHP request (save hooks can run twice)
	if ( isset( $pushed[ $post_id ] ) ) {
		return;
	}
	$pushed[ $post_id ] = true;
	newsbot_push_send( (int) $post_id, (string) get_permalink( $post ), newsbot_push_is_breaking( $post_id ) );
}
add_action( 'wp_after_insert_post', 'newsbot_push_after_insert', 10, 4 );

/** The post types to push (constant NEWSBOT_PUSH_POST_TYPES, default "post"). */
function newsbot_push_post_types() {
	$types = defined( 'NEWSBOT_PUSH_POST_TYPES' ) ? NEWSBOT_PUSH_POST_TYPES : 'post';
	return array_filter( array_map( 'trim', explode( ',', $types ) ) );
}

/** Whether the post has a category or tag listed in NEWSBOT_BREAKING_TERMS. */
function newsbot_push_is_breaking( $post_id ) {
	if ( ! defined( 'NEWSBOT_BREAKING_TERMS' ) ) {
		return false;
	}
	$wanted = array_filter( array_map( 'trim', explode( ',', NEWSBOT_BREAKING_TERMS ) ) );
	if ( ! $wanted ) {
		return false;
	}
	$terms = wp_get_post_terms( $post_id, array( 'category', 'post_tag' ), array( 'fields' => 'slugs' ) );
	return ! is_wp_error( $terms ) && (bool) array_intersect( $wanted, $terms );
}

/** Sign and send one push without waiting for the answer. */
function newsbot_push_send( $post_id, $url, $breaking ) {
	$body      = wp_json_encode(
		array(
			'post_id'  => $post_id,
			'url'      => $url,
			'breaking' => (bool) $breaking,
		)
	);
	$timestamp = (string) time();
	$signature = 'sha256=' . hash_hmac( 'sha256', $timestamp . '.' . $body, NEWSBOT_INGEST_SECRET );
	wp_remote_post(
		NEWSBOT_PUSH_URL,
		array(
			'blocking'    => false,
			'timeout'     => 2,
			'data_format' => 'body',
			'body'        => $body,
			'headers'     => array(
				'Content-Type'        => 'application/json',
				'X-Newsbot-Timestamp' => $timestamp,
				'X-Newsbot-Signature' => $signature,
			),
		)
	);
}
