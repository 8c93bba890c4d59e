/*
 * getuser.c - a program of someone else's, built against the installed
 * libusersclient (through pkg-config, or find_package(usersclient)): signs
 * in and reads one user. usage: getuser URL EMAIL ID, the password in
 * GETUSER_PASSWORD. Prints the user's email; exit 0, or 1 with the error.
 */
#include <stdio.h>
#include <stdlib.h>

#include <usersclient.h>

int
main(int argc, char **argv)
{
	const char *url[1];
	uc_options o = {0};
	Users__V1__GetUser req = USERS__V1__GET_USER__INIT;
	uc_client *c = NULL;
	uc_result res = {0};
	const char *pw = getenv("GETUSER_PASSWORD");
	int rc = 1;

	if (argc != 4 || pw == NULL) {
		fprintf(stderr,
			"usage: GETUSER_PASSWORD=... getuser URL EMAIL ID\n");
		return 2;
	}
	url[0] = argv[1];
	o.urls = url;
	o.n_urls = 1;
	if (uc_client_open(&c, &o) != 0) {
		fprintf(stderr, "getuser: %s\n", uc_client_open_error());
		return 1;
	}
	if (uc_login(c, argv[2], pw, &res) != 0) {
		fprintf(stderr, "getuser: login: %s\n",
			uc_result_message(&res));
		goto out;
	}
	uc_result_fini(&res);
	req.user_id = argv[3];
	if (uc_get_user(c, &req, NULL, &res) != 0) {
		fprintf(stderr, "getuser: %s\n", uc_result_message(&res));
		goto out;
	}
	printf("%s\n", ((Users__V1__UserInfo *)res.response)->email_address);
	rc = 0;
out:
	uc_result_fini(&res);
	uc_client_close(c);
	return rc;
}
