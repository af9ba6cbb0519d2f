package kong.authz_test

import data.kong.authz

test_health_is_public if {
	authz.decision == {"allow": true} with input as {"request": {"http": {"method": "GET", "path": "/health"}}}
}

test_anonymous_is_challenged if {
	d := authz.decision with input as {"request": {"http": {"method": "GET", "path": "/items"}}}
	d.status == 401
	d.headers["WWW-Authenticate"] == "Key realm=\"kong\""
}

test_consumer_may_read if {
	d := authz.decision with input as {"request": {"http": {"method": "GET", "path": "/items"}}, "consumer": {"username": "ann"}}
	d == {"allow": true, "headers": {"X-Authz-User": "ann"}}
}

test_consumer_may_not_write if {
	d := authz.decision with input as {"request": {"http": {"method": "POST", "path": "/items"}}, "consumer": {"username": "ann"}}
	d.status == 403
	d.message == "ann may only read"
}

test_reading_mocked if {
	authz.decision.allow with input as {"request": {"http": {"method": "POST", "path": "/items"}}, "consumer": {"username": "ann"}}
		with authz.reading as true
}
