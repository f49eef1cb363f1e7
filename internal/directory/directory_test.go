package directory

import "testing"

func TestPasskeyKind(t *testing.T) {
	for _, tc := range []struct {
		methods []string
		want    string
	}{
		{nil, ""},
		{[]string{MethodAuthenticatorPush, MethodWindowsHelloForBusiness}, ""},
		{[]string{MethodFIDO2SecurityKey}, "security key"},
		{[]string{MethodPasskeyDeviceBound}, "security key"},
		{[]string{MethodFIDO2SecurityKey, MethodPasskeySynced}, "synced passkey"},
		{[]string{MethodPasskeyDeviceBoundAuthenticator}, "passkey in Microsoft Authenticator"},
		{[]string{MethodPasskeyDeviceBoundWindowsHello}, "Windows Hello"},
	} {
		p := &Person{MethodsRegistered: tc.methods}
		if got := p.PasskeyKind(); got != tc.want {
			t.Errorf("PasskeyKind(%v) = %q, want %q", tc.methods, got, tc.want)
		}
		if (tc.want != "") != p.HasPasskey() {
			t.Errorf("%v: PasskeyKind %q but HasPasskey %v", tc.methods, tc.want, p.HasPasskey())
		}
	}
}
