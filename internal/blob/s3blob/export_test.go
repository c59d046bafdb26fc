package s3blob

// NewClient lets the tests look behind a Store's back with the client it would use.
var NewClient = newClient
